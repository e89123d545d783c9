using System.Text.Json;
using Xunit;

namespace Ds01.Tests.Integration;

/// <summary>
/// ds01d makes the rules binding: real accounts outside the docker group reach Docker only through it, what they
/// are allowed works (docker CLI, curl, ds01 and its cmdlets, an interactive exec in a pseudo-terminal), and each
/// way around the rules is refused with 403/409 and a message that says why.
/// </summary>
// One dockerd for all integration tests: GPU holdings are daemon-wide, so these run in series with the engine tests.
[Collection("engine")]
public class ServiceTests : IClassFixture<ServiceTestBed>
{
    private readonly ServiceTestBed _bed;

    public ServiceTests(ServiceTestBed bed) => _bed = bed;

    private ServiceTestBed.Account Alice => _bed.Alice;
    private ServiceTestBed.Account Bob => _bed.Bob;

    private string[] Run(string tag, params string[] extra) =>
        new[] { "run", "-d", "--name", tag }.Concat(ServiceTestBed.Limits).Concat(extra).Concat(new[] { ServiceTestBed.Busybox, "sleep", "600" }).ToArray();

    [Fact]
    public void The_accounts_are_outside_the_docker_group_and_cannot_reach_dockerd_itself()
    {
        Assert.DoesNotContain("docker", _bed.As(Alice, "id", new[] { "-nG" }).Out.Split(' ', StringSplitOptions.TrimEntries));
        var direct = _bed.As(Alice, "curl", new[] { "-s", "--unix-socket", Path.Combine(_bed.DockerSocketDir, "docker.sock"), "http://d/_ping" });
        Assert.NotEqual(0, direct.Code);
        var viaService = _bed.Curl(Alice, "GET", "/_ds01/ping");
        Assert.Contains($"\"uid\":{Alice.Uid}", viaService.Out);
        Assert.Contains("\"admin\":false", viaService.Out);
    }

    [Fact]
    public void The_docker_cli_works_through_the_service_for_the_owner_including_exec_in_a_pseudo_terminal()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("cli"), Alice);
        var run = _bed.Docker(Alice, Run(tag));
        Assert.True(run.Code == 0, run.All);
        Assert.Contains(tag, _bed.Docker(Alice, "ps", "--format", "{{.Names}}").Out);

        var tty = _bed.As(Alice, "script", new[] { "-qec", $"docker exec -it {tag} sh -c 'tty; echo through-ds01d'", "/dev/null" });
        Assert.True(tty.Code == 0, tty.All);
        Assert.Contains("/dev/pts/", tty.Out);
        Assert.Contains("through-ds01d", tty.Out);

        var piped = _bed.As(Alice, "docker", new[] { "exec", "-i", tag, "cat" }, stdin: "stdin reaches the container\n");
        Assert.Equal("stdin reaches the container\n", piped.Out);
        Assert.Equal(0, _bed.Docker(Alice, "logs", tag).Code);
        Assert.Contains(tag, _bed.Docker(Alice, "stats", "--no-stream", "--format", "{{.Name}}", tag).Out);
        Assert.Equal(0, _bed.Docker(Alice, "stop", "-t", "0", tag).Code);
        Assert.Equal(0, _bed.Docker(Alice, "start", tag).Code);
        Assert.Equal(0, _bed.Docker(Alice, "rm", "-f", tag).Code);
        Assert.Null(_bed.Inspect(tag));

        // The service wrote the events, as the kernel named the caller.
        var events = _bed.Events().Where(e => e.GetProperty("details").TryGetProperty("container", out var c) && c.GetString() == tag).ToList();
        Assert.Contains(events, e => e.GetProperty("event_type").GetString() == "container.create");
        Assert.Contains(events, e => e.GetProperty("event_type").GetString() == "container.remove");
        Assert.All(events, e =>
        {
            Assert.Equal("ds01d", e.GetProperty("source").GetString());
            Assert.Equal(Alice.Name, e.GetProperty("user").GetString());
        });
    }

    public static IEnumerable<object[]> Bypasses() => new[]
    {
        new object[] { "privileged", new[] { "--privileged" }, "privileged container is not allowed" },
        new object[] { "bind of /", new[] { "--user", "UID:GID", "-v", "/:/host" }, "is outside the directories you may mount" },
        new object[] { "bind of /etc through a link in the home", new[] { "--user", "UID:GID", "-v", "HOME/etc-link:/x" }, "is outside the directories you may mount" },
        new object[] { "another uid's owner label", new[] { "--label", "ds01.user_id=0" }, "does not name you" },
        new object[] { "memory over quota", new[] { "--memory", "1g" }, "over your quota of 256M" },
        new object[] { "cpus over quota", new[] { "--cpus", "2" }, "CPU 2 is over your quota of 1" },
        new object[] { "capability", new[] { "--cap-add", "SYS_ADMIN" }, "capability 'SYS_ADMIN' is not on this server's list" },
        new object[] { "host pid namespace", new[] { "--pid", "host" }, "shares the host's or another container's namespace" },
        new object[] { "device", new[] { "--device", "/dev/null" }, "Host devices" },
        new object[] { "seccomp off", new[] { "--security-opt", "seccomp=unconfined" }, "security option" },
        new object[] { "named volume", new[] { "-v", "vol:/data" }, "named volume" },
        new object[] { "host network", new[] { "--network", "host" }, "Network mode 'host'" },
        new object[] { "root user with a bind", new[] { "--user", "0", "-v", "HOME:/h" }, "must run as you" },
    };

    [Theory]
    [MemberData(nameof(Bypasses))]
    public void Each_way_around_the_rules_through_the_docker_cli_is_refused_with_a_clear_message(string what, string[] options, string message)
    {
        if (what.Contains("link")) _bed.As(Alice, "ln", new[] { "-sfn", "/etc", Path.Combine(Alice.Home, "etc-link") });
        var tag = ServiceTestBed.Tag(_bed.Name("by" + Math.Abs(what.GetHashCode() % 10000)), Alice);
        var opts = options.Select(o => o.Replace("UID", Alice.Uid.ToString()).Replace("GID", Alice.Gid.ToString()).Replace("HOME", Alice.Home)).ToArray();
        var r = _bed.Docker(Alice, Run(tag, opts));
        Assert.NotEqual(0, r.Code);
        Assert.Contains("Error response from daemon: ds01:", r.Err);
        Assert.Contains(message, r.Err);
        Assert.Null(_bed.Inspect(tag));
    }

    [Fact]
    public void Max_containers_through_ds01d_counts_the_callers_containers_by_name()
    {
        // ds01d asks dockerd for the caller's containers through Docker's name filter (ContainerNaming.DockerNameFilter):
        // every container named NAME._.UID counts, whoever made it (root here, one of them with a leading zero, which
        // ParseTag reads as the same uid); Bob's do not. max_containers is 6 (ServiceTestBed).
        int AlicesNow() => _bed.Engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult()
            .Count(x => x.Names.Any(n => Ds01.Core.Naming.ContainerNaming.ParseTag(n).Uid == Alice.Uid));
        string[] Create(string tag) => new[] { "create", "--name", tag }.Concat(ServiceTestBed.Limits).Concat(new[] { ServiceTestBed.Busybox, "true" }).ToArray();
        var made = new List<string>();
        try
        {
            var before = AlicesNow();
            Assert.True(before < 5, $"Alice already has {before} containers");
            for (var i = before; i < 5; i++)
            {
                var tag = i == before ? $"{_bed.Name($"cnt{i}")}._.0{Alice.Uid}" : ServiceTestBed.Tag(_bed.Name($"cnt{i}"), Alice);
                made.Add(tag);
                Assert.Equal(0, ServiceTestBed.RunRoot("docker", Create(tag)).Code);
            }
            var bobs = ServiceTestBed.Tag(_bed.Name("cntbob"), Bob);
            made.Add(bobs);
            Assert.Equal(0, ServiceTestBed.RunRoot("docker", Create(bobs)).Code);

            var sixth = ServiceTestBed.Tag(_bed.Name("cnt6"), Alice);
            made.Add(sixth);
            var r = _bed.Docker(Alice, Create(sixth));
            Assert.True(r.Code == 0, r.All);
            var seventh = ServiceTestBed.Tag(_bed.Name("cnt7"), Alice);
            made.Add(seventh);
            r = _bed.Docker(Alice, Create(seventh));
            Assert.NotEqual(0, r.Code);
            Assert.Contains("You have 6 containers; your limit is 6.", r.Err);
            Assert.Null(_bed.Inspect(seventh));

            // A name that differs only in case from one of Alice's is refused as such (checked before the count).
            var twin = ServiceTestBed.Tag(_bed.Name("CNT6"), Alice);
            made.Add(twin);
            r = _bed.Docker(Alice, Create(twin));
            Assert.Contains($"You already have a container named '{_bed.Name("cnt6")}', which differs from '{_bed.Name("CNT6")}' only in case.", r.Err);
            Assert.Null(_bed.Inspect(twin));

            // Removing one through ds01d makes room at once.
            Assert.Equal(0, _bed.Docker(Alice, "rm", sixth).Code);
            r = _bed.Docker(Alice, Create(seventh));
            Assert.True(r.Code == 0, r.All);
        }
        finally
        {
            foreach (var tag in made) ServiceTestBed.RunRoot("docker", "rm", "-f", tag);
        }
    }

    [Fact]
    public void A_name_that_differs_only_in_case_from_one_of_the_callers_is_refused_by_ds01d_and_other_names_are_not()
    {
        // RequestPolicy.CheckContainerCountAsync: "thesis" and "Thesis" would share one workspace (the project is the
        // lowercased name), so ds01d refuses the twin under its lock; names that differ by more than case both work.
        string[] Create(string tag) => new[] { "create", "--name", tag }.Concat(ServiceTestBed.Limits).Concat(new[] { ServiceTestBed.Busybox, "true" }).ToArray();
        int Named(string name) => _bed.Engine.ListContainersAsync(null, CancellationToken.None).GetAwaiter().GetResult()
            .Count(x => x.Names.Any(n => string.Equals(Ds01.Core.Naming.ContainerNaming.ParseTag(n).Name, name, StringComparison.OrdinalIgnoreCase)));
        var thesis = ServiceTestBed.Tag(_bed.Name("thesis"), Alice);
        var twin = ServiceTestBed.Tag(_bed.Name("Thesis"), Alice);
        var other = ServiceTestBed.Tag(_bed.Name("thesis2"), Alice);
        var made = new[] { thesis, twin, other };
        try
        {
            var r = _bed.Docker(Alice, Create(thesis));
            Assert.True(r.Code == 0, r.All);

            r = _bed.Docker(Alice, Create(twin));
            Assert.NotEqual(0, r.Code);
            Assert.Contains($"ds01: You already have a container named '{_bed.Name("thesis")}', which differs from '{_bed.Name("Thesis")}' only in case.", r.Err);
            Assert.Null(_bed.Inspect(twin));
            // The same refusal as the API answers it, with its error id (the docker CLI prints only the message).
            var raw = _bed.Curl(Alice, "POST", $"/v1.41/containers/create?name={twin}",
                $"{{\"Image\":\"{ServiceTestBed.Busybox}\",\"HostConfig\":{{\"NanoCpus\":1000000000,\"Memory\":134217728,\"PidsLimit\":100}}}}");
            Assert.EndsWith("HTTP 409", raw.Out);
            Assert.Contains("\"error_id\":\"ContainerNameDiffersInCase\"", raw.Out);
            Assert.Null(_bed.Inspect(twin));
            Assert.Equal(1, Named(_bed.Name("thesis")));

            // A name that differs by more than case is not a twin: it is created next to the first.
            r = _bed.Docker(Alice, Create(other));
            Assert.True(r.Code == 0, r.All);
            Assert.NotNull(_bed.Inspect(thesis));
            Assert.NotNull(_bed.Inspect(other));
        }
        finally
        {
            foreach (var tag in made) ServiceTestBed.RunRoot("docker", "rm", "-f", tag);
        }
    }

    [Fact]
    public void A_create_that_leaves_limits_out_gets_the_callers_quota()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("nolimits"), Alice);
        var r = _bed.Docker(Alice, "create", "--name", tag, ServiceTestBed.Busybox, "true");
        Assert.True(r.Code == 0, r.All);
        var host = _bed.Inspect(tag)!.HostConfig!;
        Assert.Equal(256L << 20, host.Memory);
        Assert.Equal(200, host.PidsLimit);
        Assert.Equal(1_000_000_000, host.NanoCPUs);
        Assert.Contains(host.SecurityOpt, o => o.StartsWith("no-new-privileges", StringComparison.Ordinal));
        Assert.Equal(0, _bed.Docker(Alice, "rm", tag).Code);
    }

    [Fact]
    public void A_name_with_another_uid_is_refused()
    {
        var r = _bed.Docker(Alice, Run(ServiceTestBed.Tag(_bed.Name("theirs"), Bob)));
        Assert.NotEqual(0, r.Code);
        Assert.Contains($"carries uid {Bob.Uid}, but you are uid {Alice.Uid}", r.Err);
        var unnamed = _bed.Docker(Alice, "run", "-d", "--cpus", "1", "--memory", "128m", "--pids-limit", "100", ServiceTestBed.Busybox, "true");
        Assert.Contains($"must end in '._.{Alice.Uid}'", unnamed.Err);
    }

    [Fact]
    public void Another_users_container_cannot_be_stopped_execd_into_read_or_removed()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("alices"), Alice);
        Assert.Equal(0, _bed.Docker(Alice, Run(tag)).Code);
        foreach (var args in new[] { new[] { "stop", tag }, new[] { "exec", tag, "true" }, new[] { "rm", "-f", tag }, new[] { "logs", tag }, new[] { "kill", tag } })
        {
            var r = _bed.Docker(Bob, args);
            Assert.NotEqual(0, r.Code);
            Assert.Contains($"belongs to '{Alice.Name}', not to you ('{Bob.Name}')", r.Err);
        }
        var raw = _bed.Curl(Bob, "POST", $"/v1.41/containers/{tag}/stop");
        Assert.EndsWith("HTTP 403", raw.Out);
        Assert.True(_bed.Inspect(tag)!.State!.Running);
        // Admin-only endpoints, and Docker's own listing still shows everyone's containers (read-only, like ps).
        Assert.Contains("for admins only", _bed.Docker(Bob, "volume", "ls").Err);
        Assert.Contains("for admins only", _bed.Docker(Bob, "network", "create", _bed.Name("net")).Err);
        Assert.Contains(tag, _bed.Docker(Bob, "ps", "--format", "{{.Names}}").Out);
    }

    [Fact]
    public void Another_users_container_is_out_of_reach_through_every_path_cmdlets_ds01_docker_cli_raw_curl_and_dockerd_itself()
    {
        var name = _bed.Name("reach");
        var tag = ServiceTestBed.Tag(name, Alice);
        Assert.Equal(0, _bed.Docker(Alice, Run(tag)).Code);

        // Its details are the owner's: docker inspect and the raw inspect are refused like stop, exec, logs and rm.
        var inspect = _bed.Docker(Bob, "inspect", tag);
        Assert.NotEqual(0, inspect.Code);
        Assert.Contains($"belongs to '{Alice.Name}', not to you ('{Bob.Name}')", inspect.Err);
        foreach (var (method, path, body) in new[]
                 {
                     ("GET", $"/v1.41/containers/{tag}/json", (string?)null), ("GET", $"/v1.41/containers/{tag}/logs?stdout=1", null),
                     ("POST", $"/v1.41/containers/{tag}/exec", "{\"Cmd\":[\"true\"]}"), ("POST", $"/v1.41/containers/{tag}/kill", null),
                     ("DELETE", $"/v1.41/containers/{tag}?force=1", null), ("GET", $"/containers/{tag}/json", null),
                 })
        {
            var raw = _bed.Curl(Bob, method, path, body);
            Assert.True(raw.Out.EndsWith("HTTP 403", StringComparison.Ordinal), $"{method} {path}: {raw.Out}");
            Assert.DoesNotContain("\"Config\"", raw.Out); // nothing of the container's details leaks in the refusal
        }

        // The cmdlets: -User is for admins, and so is every action on it.
        foreach (var script in new[]
                 {
                     $"Stop-Ds01Container {name} -User {Alice.Name} -Kill", $"Remove-Ds01Container {name} -User {Alice.Name} -Force",
                     $"Invoke-Ds01ContainerCommand {name} -User {Alice.Name} -Command true",
                 })
        {
            var r = _bed.Ds01(Bob, script);
            Assert.True(r.Code == 1, $"{script}: {r.All}");
            Assert.Contains("category: PermissionDenied", r.Err);
            Assert.Contains("id: NotAnAdmin", r.Err);
        }
        // The seed-style commands resolve a name in the caller's own namespace; the full tag is not a name.
        foreach (var args in new[] { new[] { "container-stop", name }, new[] { "container-stop", tag } })
        {
            var r = _bed.As(Bob, "dotnet", new[] { Ds01Cli.Dll }.Concat(args));
            Assert.True(r.Code != 0, $"ds01 {string.Join(' ', args)}: {r.All}");
            // By name it is Bob's own (missing) container; by Alice's full tag it is hers and refused.
            Assert.True(r.Err.Contains("id: ContainerNotFound") || r.Err.Contains("id: NotOwner"), r.All);
        }

        // DOCKER_HOST is the caller's to set, but dockerd's own socket is not theirs to open: pointing at it reaches nothing.
        var direct = new Dictionary<string, string?> { ["DOCKER_HOST"] = "unix://" + Path.Combine(_bed.DockerSocketDir, "docker.sock") };
        var viaDockerd = _bed.Ds01(Bob, $"Stop-Ds01Container {name} -User {Alice.Name} -Kill", direct);
        Assert.Equal(1, viaDockerd.Code);
        var cli = _bed.As(Bob, "docker", new[] { "stop", tag }, direct);
        Assert.NotEqual(0, cli.Code);

        Assert.True(_bed.Inspect(tag)!.State!.Running, "Alice's container is untouched");
        Assert.Equal(0, _bed.Docker(Alice, "inspect", tag).Code);
        Assert.Equal(0, _bed.Docker(Alice, "rm", "-f", tag).Code);
    }

    [Fact]
    public void Raw_requests_that_play_on_field_names_or_old_api_versions_are_refused()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("raw"), Alice);
        const string limits = "\"NanoCpus\":1000000000,\"Memory\":134217728,\"PidsLimit\":100";
        var lower = _bed.Curl(Alice, "POST", $"/v1.41/containers/create?name={tag}",
            $"{{\"Image\":\"{ServiceTestBed.Busybox}\",\"hostconfig\":{{{limits},\"privileged\":true}}}}");
        Assert.EndsWith("HTTP 403", lower.Out);
        Assert.Contains("\"error_id\":\"PrivilegedNotAllowed\"", lower.Out);

        var twice = _bed.Curl(Alice, "POST", $"/v1.41/containers/create?name={tag}",
            $"{{\"Image\":\"{ServiceTestBed.Busybox}\",\"HostConfig\":{{{limits}}},\"hostConfig\":{{{limits},\"Privileged\":true}}}}");
        Assert.EndsWith("HTTP 400", twice.Out);
        Assert.Contains("AmbiguousRequestField", twice.Out);

        // Go matches 'ſ' (U+017F) to 's': "Bindſ" is Binds to dockerd, so it is checked as Binds.
        var folded = _bed.Curl(Alice, "POST", $"/v1.41/containers/create?name={tag}",
            $"{{\"Image\":\"{ServiceTestBed.Busybox}\",\"User\":\"{Alice.Uid}\",\"HostConfig\":{{{limits},\"Bind\u017f\":[\"/:/host\"]}}}}");
        Assert.EndsWith("HTTP 403", folded.Out);
        Assert.Contains("MountOutsideAllowedRoots", folded.Out);

        Assert.EndsWith("HTTP 400", _bed.Curl(Alice, "POST", $"/v1.23/containers/{tag}/start", "{\"Privileged\":true}").Out);
        Assert.EndsWith("HTTP 403", _bed.Curl(Alice, "GET", "/v1.41/volumes").Out);
        Assert.EndsWith("HTTP 403", _bed.Curl(Alice, "POST", "/v1.41/containers/prune").Out);
        Assert.Null(_bed.Inspect(tag));
    }

    [Fact]
    public void A_config_of_their_own_that_names_them_admin_changes_nothing()
    {
        var tag = ServiceTestBed.Tag(_bed.Name("bobs"), Bob);
        Assert.Equal(0, _bed.Docker(Bob, Run(tag)).Code);
        var fake = Path.Combine(Alice.Home, "fake-etc");
        _bed.As(Alice, "mkdir", new[] { "-p", fake });
        _bed.As(Alice, "cp", new[] { Path.Combine(_bed.ConfigDir, "resource-limits.yaml"), Path.Combine(_bed.ConfigDir, "gpu-config.yaml"), fake });
        _bed.As(Alice, "sh", new[] { "-c", "printf 'admins: [\"%s\"]\\n' \"$1\" >> \"$2\"", "sh", Alice.Name, Path.Combine(fake, "resource-limits.yaml") });

        var r = _bed.Ds01(Alice, $"Stop-Ds01Container {_bed.Name("bobs")} -User {Bob.Name} -Kill",
            new Dictionary<string, string?> { ["DS01_CONFIG_DIR"] = fake });
        // The client already refuses a config directory its caller controls; were it to pass one on, the service
        // would still decide from its own config. Both end as PermissionDenied and Bob's container keeps running.
        Assert.Equal(1, r.Code);
        Assert.Contains("category: PermissionDenied", r.Err);
        Assert.True(r.Err.Contains("id: EnvironmentOverrideRefused") || r.Err.Contains("id: NotOwner"), r.Err);
        var stop = _bed.Docker(Alice, "stop", tag);
        Assert.NotEqual(0, stop.Code);
        Assert.Contains($"belongs to '{Bob.Name}', not to you", stop.Err);
        Assert.True(_bed.Inspect(tag)!.State!.Running);
        Assert.Contains("\"admin\":false", _bed.Curl(Alice, "GET", "/_ds01/ping").Out);
    }

    [Fact]
    public void Nobody_but_the_service_can_write_the_event_log()
    {
        var forged = _bed.As(Alice, "sh", new[] { "-c", "printf '%s\\n' '{\"event_type\":\"container.remove\",\"user\":\"root\"}' >> \"$1\"", "sh", _bed.EventLog });
        Assert.NotEqual(0, forged.Code);
        Assert.Contains("Permission denied", forged.Err);
        Assert.DoesNotContain(_bed.Events(), e => e.GetProperty("user").GetString() == "root" && !e.TryGetProperty("source", out _));
        var info = new FileInfo(_bed.EventLog);
        Assert.Equal((UnixFileMode)0b110_100_100, info.UnixFileMode);
    }

    [Fact]
    public void A_gpu_slot_another_user_holds_is_409_and_so_is_going_over_the_gpu_quota()
    {
        string Gpu(int i) => $"NVIDIA_VISIBLE_DEVICES=GPU-00000000-0000-4000-8000-00000000000{i}";
        var bobs = ServiceTestBed.Tag(_bed.Name("gpub"), Bob);
        var held = _bed.Docker(Bob, "create", "--name", bobs, "--cpus", "1", "--memory", "128m", "--pids-limit", "100", "-e", Gpu(0), ServiceTestBed.Busybox, "true");
        Assert.True(held.Code == 0, held.All);

        var taken = _bed.Curl(Alice, "POST", $"/v1.41/containers/create?name={ServiceTestBed.Tag(_bed.Name("gpua"), Alice)}",
            $"{{\"Image\":\"{ServiceTestBed.Busybox}\",\"Env\":[\"{Gpu(0)}\"],\"HostConfig\":{{\"NanoCpus\":1000000000,\"Memory\":134217728,\"PidsLimit\":100}}}}");
        Assert.EndsWith("HTTP 409", taken.Out);
        Assert.Contains("GpuSlotBusy", taken.Out);

        var two = _bed.Docker(Alice, "create", "--name", ServiceTestBed.Tag(_bed.Name("gpuq"), Alice), "--cpus", "1", "--memory", "128m", "--pids-limit", "100",
            "-e", "NVIDIA_VISIBLE_DEVICES=GPU-00000000-0000-4000-8000-000000000001,GPU-00000000-0000-4000-8000-000000000002", ServiceTestBed.Busybox, "true");
        Assert.NotEqual(0, two.Code);
        Assert.Contains($"{Alice.Name} holds 0.00 GPU-equivalents; this request (slots 1, 2) needs 2.00 more; the limit is 1.00 (gpu_limit)", two.Err);

        var ones = ServiceTestBed.Tag(_bed.Name("gpuo"), Alice);
        var one = _bed.Docker(Alice, "create", "--name", ones, "--cpus", "1", "--memory", "128m", "--pids-limit", "100",
            "-e", Gpu(1), ServiceTestBed.Busybox, "true");
        Assert.True(one.Code == 0, one.All);
        // GPU holdings are daemon-wide: give the slots back for the other GPU tests.
        Assert.Equal(0, _bed.Docker(Alice, "rm", ones).Code);
        Assert.Equal(0, _bed.Docker(Bob, "rm", bobs).Code);
    }

    [Fact]
    public void Ds01_cmdlets_work_through_the_service_and_say_so_under_verbose()
    {
        var project = _bed.Name("proj");
        var name = _bed.Name("c");
        var build = _bed.Ds01(Alice, $"Build-Ds01Image -Project {project} -BaseImage {ServiceTestBed.Busybox} -Framework Busybox -FrameworkVersion 1.36");
        Assert.True(build.Code == 0, build.All);
        var create = _bed.Ds01(Alice, $"New-Ds01Container {name} -Project {project} -GpuCount 0 -Verbose");
        Assert.True(create.Code == 0, create.All);
        Assert.Contains($"Using the Ds01 service at unix://{_bed.Socket}", create.All);
        var run = _bed.Ds01(Alice, $"Start-Ds01Container {name} | Out-Null; Invoke-Ds01ContainerCommand {name} -Command echo,hello-from-{name}; (Get-Ds01Container).Name");
        Assert.True(run.Code == 0, run.All);
        Assert.Contains($"hello-from-{name}", run.Out);
        Assert.Contains(name, run.Out);
        var more = _bed.Ds01(Alice, $"Suspend-Ds01Container {name} | Out-Null; Resume-Ds01Container {name} | Out-Null; " +
                                    $"(Get-Ds01ContainerStats {name}).Name; (Get-Ds01Image).Name; (Get-Ds01Gpu).Count; Get-Ds01GpuAllocation | Out-Null; (Get-Ds01ResourceLimit).CpuLimit");
        Assert.True(more.Code == 0, more.All);
        Assert.Contains(project, more.Out);

        // Enter-Ds01Container hands the terminal to docker exec -it, which goes through the service as well.
        var enter = _bed.As(Alice, "script", new[] { "-qec", $"dotnet {Ds01Cli.Dll} -c 'Enter-Ds01Container {name} -Shell sh'", "/dev/null" },
            stdin: "echo inside-$((6*7)); exit\n");
        Assert.Contains("inside-42", enter.Out);

        var gpu = _bed.Ds01(Alice, $"New-Ds01Container {name}g -Project {project} -GpuCount 1 | Out-Null; (Get-Ds01Container {name}g).Gpu; Remove-Ds01Container {name}g -Force");
        Assert.True(gpu.Code == 0, gpu.All);
        Assert.Matches("[0-2]", gpu.Out);

        var stop = _bed.Ds01(Alice, $"Stop-Ds01Container {name} -Kill | Out-Null; Remove-Ds01Container {name} -Force; Remove-Ds01Image -Project {project} -Force");
        Assert.True(stop.Code == 0, stop.All);
        Assert.Null(_bed.Inspect(ServiceTestBed.Tag(name, Alice)));

        // The legacy path (an image without the user built in: run + commit) works through the service too.
        var legacy = _bed.Name("legacy");
        var viaCommit = _bed.Ds01(Alice, $"New-Ds01Container {legacy} -Image {ServiceTestBed.Busybox} -GpuCount 0 | Out-Null; Start-Ds01Container {legacy} | Out-Null; " +
                                         $"Invoke-Ds01ContainerCommand {legacy} -Command id,-u; Remove-Ds01Container {legacy} -Stop -Force");
        Assert.True(viaCommit.Code == 0, viaCommit.All);
        Assert.Contains(Alice.Uid.ToString(), viaCommit.Out);
        Assert.Null(_bed.Inspect(ServiceTestBed.Tag(legacy, Alice)));
        Assert.Contains(_bed.Events(), e => e.GetProperty("event_type").GetString() == "container.create" && e.GetProperty("user").GetString() == Alice.Name
                                             && e.GetProperty("source").GetString() == "ds01d");
    }
}
