using System.Text;
using System.Text.Json.Nodes;
using Ds01.Core;
using Ds01.Core.Configuration;
using Ds01.Core.Docker;
using Ds01.Core.Identity;
using Ds01.Service.Http;
using Ds01.Service.Install;
using Ds01.Service.Policy;
using Ds01.Service.Proxy;
using Xunit;

namespace Ds01.Tests.Unit.Service;

/// <summary>ds01d's parsing and admission rules without a daemon (the integration tests run the real service).</summary>
public class ServiceRulesTests
{
    private static readonly UserIdentity Alice = new("alice", 1001, 1001, "/home/alice", new[] { "alice" });

    private static ResourceLimitsConfig Config(string extra = "") => ResourceLimitsConfig.Parse("/etc/ds01/resource-limits.yaml",
        "defaults:\n  cpu_limit: 2\n  memory_limit: 1G\n  pids_limit: 100\nallowed_mount_roots: [\"{home}\"]\n" + extra);

    private static ApiRequest Request(string line) => ApiRequest.Parse(HttpHead.Parse(line + "\r\nHost: d"));

    private static AdmittedCreate Admit(string body, string? name = "job._.1001", string extra = "") =>
        CreateAdmission.Check(name, Encoding.UTF8.GetBytes(body), Alice, Config(extra));

    private static Ds01Exception Refused(string body, string? name = "job._.1001", string extra = "") =>
        Assert.Throws<Ds01Exception>(() => Admit(body, name, extra));

    [Fact]
    public void The_api_version_prefix_is_stripped_and_versions_before_1_40_are_refused()
    {
        var r = Request("POST /v1.41/containers/abc/start HTTP/1.1");
        Assert.Equal(new[] { "containers", "abc", "start" }, r.Segments);
        Assert.True(r.Is("POST", "containers", "*", "start"));
        var old = Assert.Throws<Ds01Exception>(() => Request("POST /v1.23/containers/abc/start HTTP/1.1"));
        Assert.Equal("ApiVersionTooOld", old.ErrorId);
    }

    [Theory]
    [InlineData("GET /containers/../volumes HTTP/1.1")]
    [InlineData("GET /containers//json HTTP/1.1")]
    [InlineData("GET /images/a%2Fb/json HTTP/1.1")]
    [InlineData("GET /containers/json?all=1;x=2 HTTP/1.1")]
    public void Paths_and_queries_that_could_read_differently_to_dockerd_are_refused(string line) =>
        Assert.Equal(Ds01ErrorKind.InvalidArgument, Assert.Throws<Ds01Exception>(() => Request(line)).Kind);

    [Fact]
    public void A_query_parameter_the_policy_reads_may_appear_only_once()
    {
        var r = Request("POST /containers/create?name=a._.1001&name=b._.1002 HTTP/1.1");
        Assert.Equal("DuplicateQueryParameter", Assert.Throws<Ds01Exception>(() => r.QueryValue("name")).ErrorId);
    }

    [Fact]
    public void Framing_with_both_content_length_and_chunked_is_refused()
    {
        var head = HttpHead.Parse("POST /build HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked");
        Assert.Throws<HttpFormatException>(() => head.Framing(isRequest: true));
        Assert.Throws<HttpFormatException>(() => HttpHead.Parse("POST /build HTTP/1.1\r\nContent-Length : 5"));
    }

    [Fact]
    public void Field_names_fold_as_go_folds_them()
    {
        Assert.Equal(JsonFields.Fold("Binds"), JsonFields.Fold("BIND\u017f"));
        Assert.Equal(JsonFields.Fold("Kind"), JsonFields.Fold("\u212aind"));
        var o = JsonFields.ParseObject(Encoding.UTF8.GetBytes("{\"hostconfig\":{\"privileged\":true}}"), "create");
        Assert.True(JsonFields.Bool(JsonFields.Obj(o, "HostConfig"), "Privileged"));
        Assert.Equal("AmbiguousRequestField", Assert.Throws<Ds01Exception>(() =>
            JsonFields.ParseObject(Encoding.UTF8.GetBytes("{\"HostConfig\":{\"Privileged\":false,\"privileged\":true}}"), "create")).ErrorId);
    }

    [Fact]
    public void An_admitted_create_gets_owner_labels_the_quota_and_no_new_privileges()
    {
        var a = Admit("{\"Image\":\"busybox\",\"User\":\"1001:1001\",\"HostConfig\":{\"Binds\":[\"/home/alice/w:/workspace\"]}}");
        var host = JsonFields.Obj(a.Body, "HostConfig")!;
        Assert.Equal((long)Math.Round(Math.Min(2, Environment.ProcessorCount) * 1e9), JsonFields.Num(host, "NanoCpus"));
        Assert.Equal(1L << 30, JsonFields.Num(host, "Memory"));
        Assert.Equal(100, JsonFields.Num(host, "PidsLimit"));
        Assert.Contains("no-new-privileges:true", JsonFields.Strings(host, "SecurityOpt"));
        var labels = JsonFields.Obj(a.Body, "Labels")!;
        Assert.Equal("alice", labels["ds01.user"]!.GetValue<string>());
        Assert.Equal("1001", labels["ds01.user_id"]!.GetValue<string>());
        Assert.Equal("job._.1001", a.Tag);
    }

    [Fact]
    public void Bind_sources_are_rewritten_to_the_services_mounts_and_the_checked_paths_kept_in_labels_only_it_writes()
    {
        const string dir = "/run/ds01/binds/job._.1001.0a1b2c3d";
        var body = "{\"User\":\"1001:1001\",\"Labels\":{\"ds01.bind.0\":\"/etc\",\"ds01.bind.7\":\"/\",\"ds01.bind_dir\":\"/tmp\"}," +
                   "\"HostConfig\":{\"Binds\":[\"/home/alice/w/../w2:/workspace\",\"/home/alice/d:/data:ro\"]," +
                   "\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/home/alice/m\",\"Target\":\"/m\",\"ReadOnly\":true},{\"Type\":\"tmpfs\",\"Target\":\"/t\"}]}}";
        var a = CreateAdmission.Check("job._.1001", Encoding.UTF8.GetBytes(body), Alice, Config(), dir);
        var host = JsonFields.Obj(a.Body, "HostConfig")!;
        // Binds become Mounts of type bind (a missing source fails the start instead of becoming a root-owned directory).
        Assert.Empty(JsonFields.Strings(host, "Binds"));
        Assert.Equal(new[] { $"bind {dir}/0 /workspace False", $"bind {dir}/1 /data True", $"bind {dir}/2 /m True", "tmpfs  /t False" },
            JsonFields.Arr(host, "Mounts")!.Cast<JsonObject>().Select(m =>
                $"{JsonFields.Str(m, "Type")} {JsonFields.Str(m, "Source")} {JsonFields.Str(m, "Target")} {JsonFields.Bool(m, "ReadOnly")}"));
        Assert.Equal(new[] { ("/home/alice/w2", false), ("/home/alice/d", true), ("/home/alice/m", true) }, a.Binds.Select(b => (b.Path, b.ReadOnly)));
        var labels = JsonFields.Obj(a.Body, "Labels")!;
        Assert.Equal(dir, labels["ds01.bind_dir"]!.GetValue<string>());

        // A propagation mode is carried over; options a bind mount cannot carry (SELinux relabels, volume options) are refused.
        var shared = CreateAdmission.Check("job._.1001", Encoding.UTF8.GetBytes("{\"User\":\"1001:1001\",\"HostConfig\":{\"Binds\":[\"/home/alice/w:/w:ro,rslave\"]}}"), Alice, Config(), dir);
        var only = Assert.Single(JsonFields.Arr(JsonFields.Obj(shared.Body, "HostConfig"), "Mounts")!) as JsonObject;
        Assert.Equal(("rslave", true), (JsonFields.Str(JsonFields.Obj(only, "BindOptions"), "Propagation"), JsonFields.Bool(only, "ReadOnly")));
        foreach (var bad in new[] { "/home/alice/w:/w:z", "/home/alice/w:/w:nocopy", "/home/alice/w:/w:ro,rw", "/home/alice/w" })
        {
            var e = Assert.Throws<Ds01Exception>(() => CreateAdmission.Check("job._.1001",
                Encoding.UTF8.GetBytes($"{{\"User\":\"1001:1001\",\"HostConfig\":{{\"Binds\":[\"{bad}\"]}}}}"), Alice, Config(), dir));
            Assert.Equal(bad == "/home/alice/w" ? "InvalidBind" : "BindOptionNotSupported", e.ErrorId);
        }
        Assert.Equal("/home/alice/w2", labels["ds01.bind.0"]!.GetValue<string>());
        Assert.Equal("/home/alice/m", labels["ds01.bind.2"]!.GetValue<string>());
        Assert.Null(labels["ds01.bind.7"]); // the request's own ds01.bind* labels are dropped
        Assert.Equal(dir, a.BindDir);

        // Without binds there is nothing to mount, and forged labels are still dropped.
        var none = CreateAdmission.Check("job._.1001", Encoding.UTF8.GetBytes("{\"Labels\":{\"ds01.bind.0\":\"/etc\"}}"), Alice, Config(), dir);
        Assert.Null(none.BindDir);
        Assert.Null(JsonFields.Obj(none.Body, "Labels")!["ds01.bind.0"]);
    }

    [Theory]
    [InlineData("/run/ds01/binds/job._.1001.0a1b2c3d/0", "/run/ds01/binds/job._.1001.0a1b2c3d", 0)]
    [InlineData("/run/ds01/binds/job._.1001.0a1b2c3d/12", "/run/ds01/binds/job._.1001.0a1b2c3d", 12)]
    [InlineData("/run/ds01/binds/../etc/0", null, 0)]
    [InlineData("/run/ds01/binds/job/0/x", null, 0)]
    [InlineData("/run/ds01/binds/job/x", null, 0)]
    [InlineData("/run/ds01/bindsX/job/0", null, 0)]
    [InlineData("/home/alice/w", null, 0)]
    public void Only_sources_of_the_form_binddir_name_index_are_the_services_own_binds(string source, string? dir, int index)
    {
        var parsed = new Ds01.Service.Binds.BindMounter("/run/ds01/binds", _ => { }).Parse(source);
        Assert.Equal(dir, parsed?.Dir);
        if (dir is not null) Assert.Equal(index, parsed!.Value.Index);
    }

    [Fact]
    public void Root_with_binds_is_admitted_only_with_allow_sudo_and_then_only_for_idmapped_binds()
    {
        const string body = "{\"User\":\"0\",\"HostConfig\":{\"Binds\":[\"/home/alice/w:/w\"]}}";
        Assert.Equal("ContainerUserNotYours", Refused(body).ErrorId);
        Assert.Equal("ContainerUserNotYours", Assert.Throws<Ds01Exception>(() =>
            CreateAdmission.Check("job._.1001", Encoding.UTF8.GetBytes(body), Alice, Config(), "/run/ds01/binds/x")).ErrorId);
        var sudo = CreateAdmission.Check("job._.1001", Encoding.UTF8.GetBytes(body), Alice, Config("users:\n  alice:\n    allow_sudo: true\n"), "/run/ds01/binds/x");
        Assert.True(sudo.RootWithBinds);
        // Not through ds01d's own mounts (no bind directory): still refused.
        Assert.Equal("ContainerUserNotYours", Refused(body, extra: "users:\n  alice:\n    allow_sudo: true\n").ErrorId);
    }

    [Theory]
    [InlineData("{\"HostConfig\":{\"Privileged\":true}}", "PrivilegedNotAllowed")]
    [InlineData("{\"hostconfig\":{\"privileged\":true}}", "PrivilegedNotAllowed")]
    [InlineData("{\"HostConfig\":{\"CapAdd\":[\"NET_ADMIN\"]}}", "CapabilityNotAllowed")]
    [InlineData("{\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/sda\"}]}}", "DevicesNotAllowed")]
    [InlineData("{\"HostConfig\":{\"PidMode\":\"host\"}}", "HostNamespaceNotAllowed")]
    [InlineData("{\"HostConfig\":{\"IpcMode\":\"container:other\"}}", "HostNamespaceNotAllowed")]
    [InlineData("{\"HostConfig\":{\"NetworkMode\":\"host\"}}", "NetworkModeNotAllowed")]
    [InlineData("{\"User\":\"1001\",\"HostConfig\":{\"Binds\":[\"/:/host\"]}}", "MountOutsideAllowedRoots")]
    [InlineData("{\"User\":\"1001\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/etc\",\"Target\":\"/e\"}]}}", "MountOutsideAllowedRoots")]
    [InlineData("{\"HostConfig\":{\"Binds\":[\"/home/alice:/h\"]}}", "ContainerUserNotYours")]
    [InlineData("{\"HostConfig\":{\"Binds\":[\"data:/data\"]}}", "VolumesNotAllowed")]
    [InlineData("{\"HostConfig\":{\"VolumesFrom\":[\"bobs._.1002\"]}}", "VolumesNotAllowed")]
    [InlineData("{\"HostConfig\":{\"SecurityOpt\":[\"apparmor=unconfined\"]}}", "SecurityOptNotAllowed")]
    [InlineData("{\"HostConfig\":{\"CgroupParent\":\"/\"}}", "CgroupParentNotYours")]
    [InlineData("{\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"80\"}]}}}", "PrivilegedPortNotAllowed")]
    [InlineData("{\"HostConfig\":{\"OomScoreAdj\":-1000}}", "PriorityNotAllowed")]
    [InlineData("{\"HostConfig\":{\"LogConfig\":{\"Type\":\"syslog\",\"Config\":{}}}}", "LogDriverNotAllowed")]
    [InlineData("{\"NetworkingConfig\":{\"EndpointsConfig\":{\"admins-net\":{}}}}", "NetworkModeNotAllowed")]
    [InlineData("{\"Labels\":{\"ds01.user\":\"bob\"}}", "LabelNotYours")]
    [InlineData("{\"Labels\":{\"aime.mlc.USER\":\"root\"}}", "LabelNotYours")]
    [InlineData("{\"HostConfig\":{\"Memory\":2147483648}}", "ResourceLimitExceeded")]
    [InlineData("{\"HostConfig\":{\"Memory\":104857600,\"MemorySwap\":-1}}", "ResourceLimitExceeded")]
    [InlineData("{\"HostConfig\":{\"NanoCpus\":3000000000}}", "ResourceLimitExceeded")]
    [InlineData("{\"HostConfig\":{\"CpuQuota\":400000,\"CpuPeriod\":100000}}", "ResourceLimitExceeded")]
    public void Creates_that_reach_the_host_or_pass_the_quota_are_refused(string body, string id) => Assert.Equal(id, Refused(body).ErrorId);

    [Theory]
    [InlineData(null, "ContainerNameRequired")]
    [InlineData("job", "ContainerNameRequired")]
    [InlineData("job._.1002", "TagNotYours")]
    [InlineData("ds01-setup-job._.1002-0123abcd", "TagNotYours")]
    public void The_name_must_carry_the_callers_uid(string? name, string id) => Assert.Equal(id, Refused("{}", name).ErrorId);

    [Fact]
    public void A_capability_on_the_configured_list_and_the_legacy_setup_name_are_admitted()
    {
        Admit("{\"HostConfig\":{\"CapAdd\":[\"CAP_SYS_PTRACE\"]}}", extra: "allowed_capabilities: [SYS_PTRACE]\n");
        Assert.Equal("ds01-setup-job._.1001-0123abcd", Admit("{}", "ds01-setup-job._.1001-0123abcd").Tag);
    }

    [Fact]
    public void Gpu_devices_are_read_from_device_requests_env_and_labels()
    {
        var a = Admit("{\"Env\":[\"NVIDIA_VISIBLE_DEVICES=GPU-1\"],\"Labels\":{\"ds01.gpu.slots\":\"2\"}," +
                      "\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"nvidia\",\"DeviceIDs\":[\"GPU-0\"]},{\"Count\":-1}]}}");
        Assert.Equal(new[] { "GPU-0", "all", "GPU-1", "2" }, a.GpuDevices);
        Assert.Empty(Admit("{\"Env\":[\"NVIDIA_VISIBLE_DEVICES=void\"]}").GpuDevices);
    }

    [Fact]
    public void A_service_error_body_turns_back_into_the_same_error()
    {
        var original = new Ds01Exception(Ds01ErrorKind.ResourceUnavailable, "NoFreeGpu", "All 4 GPUs are in use.", "job._.1001", "Use -Wait.");
        var body = Encoding.UTF8.GetString(ServiceError.Serialize(original));
        Assert.Contains("\"message\":\"ds01: All 4 GPUs are in use. Use -Wait.\"", body);
        var back = ServiceError.TryParse(body)!;
        Assert.Equal((original.Kind, original.ErrorId, original.Message, "job._.1001", original.RecommendedAction),
            (back.Kind, back.ErrorId, back.Message, back.Target as string, back.RecommendedAction));
        Assert.Equal(409, ServiceError.StatusFor(back.Kind));
        Assert.Null(ServiceError.TryParse("{\"message\":\"No such container: x\"}"));
    }

    [Fact]
    public void The_client_uses_docker_host_else_the_service_socket_else_dockerd_and_says_which()
    {
        var tcp = DockerEndpointResolver.Resolve("tcp://127.0.0.1:2375", "/nonexistent/ds01.sock");
        Assert.False(tcp.ViaService);
        Assert.Contains("directly at tcp://127.0.0.1:2375", tcp.Note);
        var none = DockerEndpointResolver.Resolve("", "/nonexistent/ds01.sock");
        Assert.Equal("unix:///var/run/docker.sock", none.Uri);
        Assert.Contains("No Ds01 service socket", none.Note);
        var marker = Path.GetTempFileName();
        try
        {
            var service = DockerEndpointResolver.Resolve("", marker);
            Assert.True(service.ViaService);
            Assert.Equal("unix://" + marker, service.Uri);
        }
        finally { File.Delete(marker); }
    }

    [Fact]
    public void A_group_slice_carries_the_groups_aggregate_limits()
    {
        var config = Config("groups:\n  phd-students:\n    aggregate: { cpu: 32, memory: 256G }\n");
        var group = config.Groups["phd-students"];
        Assert.Equal("ds01-phd_students.slice", Installer.SliceName(group.Name));
        var unit = Installer.SliceUnit(group);
        Assert.Contains("CPUQuota=3200%", unit);
        Assert.Contains($"MemoryMax={256L << 30}", unit);
        var bad = ResourceLimitsConfig.Validate("f", "groups:\n  g:\n    aggregate: { cpus: 3 }\n");
        Assert.Contains(bad, p => p.Message.Contains("unknown key 'cpus' in the aggregate of group 'g'"));
    }
}
