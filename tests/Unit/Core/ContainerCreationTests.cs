using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Naming;
using Xunit;

namespace Ds01.Tests.Unit.Core;

/// <summary>The create transaction over the in-memory engine: what it creates, what it refuses, what it rolls back.</summary>
public class ContainerCreationTests
{
    [Fact]
    public void A_cpu_only_create_makes_one_labelled_container_with_its_limits_and_records_it()
    {
        using var bed = new CoreBed();
        var c = bed.Create("alpha");

        Assert.Equal("alpha", c.Name);
        Assert.Equal($"alpha._.{bed.Me.Uid}", c.Tag);
        Assert.Equal(ContainerState.Created, c.State);
        var inspect = Assert.Single(bed.Engine.Containers);
        Assert.NotNull(inspect.Config);
        Assert.NotNull(inspect.HostConfig);
        Assert.Equal("0", inspect.Config.Labels[Labels.AimeGpus]);
        Assert.Equal(bed.Me.Name, inspect.Config.Labels[Labels.User]);
        Assert.Equal(2_000_000_000L, inspect.HostConfig.NanoCPUs);
        Assert.Equal(1L << 30, inspect.HostConfig.Memory);
        Assert.False(inspect.HostConfig.Privileged);
        Assert.True(Directory.Exists(Path.Combine(bed.Workspaces, "alpha")));
        Assert.Equal(new[] { "container.create" }, bed.EventTypes());
        var notes = bed.Session.Feedback.Drain();
        Assert.Contains(notes, n => n.Kind == FeedbackKind.Note && n.Message.Contains("cgroup driver is 'cgroupfs'"));
        // The plain image takes AIME's legacy path: the container runs a commit, but shows the image that was asked for.
        Assert.Contains(notes, n => n.Kind == FeedbackKind.Note && n.Message.StartsWith("Legacy path", StringComparison.Ordinal));
        Assert.EndsWith($":alpha._.{bed.Me.Uid}", inspect.Config.Image);
        Assert.Equal(CoreBed.Image, c.Image);
    }

    [Fact]
    public void A_gpu_create_records_the_chosen_slot_and_the_next_one_finds_none_free()
    {
        using var bed = new CoreBed(defaults: "gpu_limit: 2", gpus: 1);
        var first = bed.Create("g1", gpus: 1);
        Assert.Equal("0", first.Gpu);
        Assert.Contains("CUDA_VISIBLE_DEVICES=GPU-00000000-0000-4000-8000-000000000000", Assert.Single(bed.Engine.Containers).Config?.Env ?? new List<string>());

        var e = bed.CreateFails("g2", gpus: 1);
        Assert.Equal(Ds01ErrorKind.ResourceUnavailable, e.Kind);
        Assert.Single(bed.Engine.Containers);
        Assert.Equal(new[] { "gpu.allocate", "container.create", "gpu.reject" }, bed.EventTypes());
    }

    [Fact]
    public void A_refused_create_rolls_back_the_legacy_commit_and_the_workspace_it_made()
    {
        using var bed = new CoreBed();
        // No user setup in the image: the legacy path commits a per-container image first.
        bed.Engine.BeforeCreate = p =>
        {
            if (p.Name?.StartsWith("beta._.", StringComparison.Ordinal) == true)
                throw new Ds01Exception(Ds01ErrorKind.InvalidArgument, "DockerBadRequest", "invalid mount config", p.Name);
        };
        var imagesBefore = bed.Engine.ImageReferences.ToHashSet();

        var e = bed.CreateFails("beta");

        Assert.Equal("DockerBadRequest", e.ErrorId);
        Assert.Contains(bed.Engine.Calls, c => c.StartsWith("Commit ", StringComparison.Ordinal));
        Assert.Equal(imagesBefore, bed.Engine.ImageReferences.ToHashSet());
        Assert.DoesNotContain(bed.Engine.Containers, c => c.Name.StartsWith("/beta", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(bed.Workspaces, "beta")));
        Assert.DoesNotContain("container.create", bed.EventTypes());
    }

    [Fact]
    public void A_refused_create_keeps_a_workspace_that_existed_before()
    {
        using var bed = new CoreBed();
        var ws = Path.Combine(bed.Workspaces, "keep");
        Directory.CreateDirectory(ws);
        bed.Engine.BeforeCreate = p => throw new Ds01Exception(Ds01ErrorKind.InvalidOperation, "DockerApiError", "no", p.Name);
        bed.CreateFails("keep");
        Assert.True(Directory.Exists(ws));
    }

    [Fact]
    public void Max_containers_is_counted_again_under_the_lock_so_a_parallel_create_cannot_exceed_it()
    {
        using var bed = new CoreBed(defaults: "max_containers: 1");
        var request = new ContainerCreateRequest { Name = "late", Image = CoreBed.Image, GpuCount = 0 };
        var prepared = bed.Creation.PrepareAsync(request, bed.Me, CancellationToken.None).GetAwaiter().GetResult();
        // Another create of the same user finished between the early check and the lock.
        bed.Engine.AddContainer($"early._.{bed.Me.Uid}", new Dictionary<string, string> { [Labels.Aime] = bed.Me.Name, [Labels.User] = bed.Me.Name });

        var e = Assert.Throws<Ds01Exception>(() => bed.Creation.CommitAsync(prepared, CancellationToken.None).GetAwaiter().GetResult());

        Assert.Equal("ContainerLimitReached", e.ErrorId);
        Assert.Equal(Ds01ErrorKind.QuotaExceeded, e.Kind);
        Assert.DoesNotContain(bed.Engine.Calls, c => c.StartsWith("Create late", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(bed.Workspaces, "late")));
    }

    [Fact]
    public void The_early_max_containers_check_fails_before_any_slow_work()
    {
        using var bed = new CoreBed(defaults: "max_containers: 1");
        bed.Create("one");
        var calls = bed.Engine.Calls.Count;
        var e = bed.CreateFails("two");
        Assert.Equal("ContainerLimitReached", e.ErrorId);
        Assert.DoesNotContain(bed.Engine.Calls.Skip(calls), c => c.StartsWith("Commit", StringComparison.Ordinal) || c.StartsWith("Create", StringComparison.Ordinal));
    }

    [Fact]
    public void A_taken_name_is_ResourceExists_and_changes_nothing()
    {
        using var bed = new CoreBed();
        bed.Create("dup");
        var e = bed.CreateFails("dup");
        Assert.Equal((Ds01ErrorKind.AlreadyExists, "ContainerExists"), (e.Kind, e.ErrorId));
        Assert.Single(bed.Engine.Containers);
        Assert.Single(bed.EventTypes());
    }

    [Fact]
    public void Bad_input_is_refused_before_Docker_is_asked_anything()
    {
        using var bed = new CoreBed();
        Assert.Equal(Ds01ErrorKind.InvalidArgument, bed.CreateFails("bad name!").Kind);
        var both = Assert.Throws<Ds01Exception>(() => bed.Creation.RunAsync(
            new ContainerCreateRequest { Name = "x", Image = CoreBed.Image, Gpu = "0", GpuCount = 2 }, bed.Me, CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal("GpuSlotWithCount", both.ErrorId);
        Assert.Empty(bed.Engine.Calls);
    }

    [Fact]
    public void A_missing_image_is_ObjectNotFound_and_makes_no_workspace()
    {
        using var bed = new CoreBed();
        var e = bed.CreateFails("noimg", image: "nothing/here:latest");
        Assert.Equal((Ds01ErrorKind.NotFound, "ImageNotFound"), (e.Kind, e.ErrorId));
        Assert.False(Directory.Exists(Path.Combine(bed.Workspaces, "noimg")));
    }

    [Fact]
    public void A_workspace_outside_the_allowed_roots_is_PermissionDenied()
    {
        using var bed = new CoreBed();
        var e = Assert.Throws<Ds01Exception>(() => bed.Create("out", workspace: "/etc"));
        Assert.Equal(Ds01ErrorKind.PermissionDenied, e.Kind);
        Assert.Empty(bed.Engine.Containers);
    }

    [Fact]
    public void A_cpu_limit_above_the_host_is_fitted_to_it_and_said_in_a_note()
    {
        using var bed = new CoreBed(defaults: "cpu_limit: 64");
        bed.Engine.Cpus = 4;
        bed.Create("wide");
        Assert.Equal(4_000_000_000L, Assert.Single(bed.Engine.Containers).HostConfig?.NanoCPUs);
        Assert.Contains(bed.Session.Feedback.Drain(), n => n.Message.Contains("more than this host's 4 CPUs"));
    }

    [Fact]
    public void Under_systemd_the_container_gets_the_users_slice()
    {
        using var bed = new CoreBed();
        bed.Engine.CgroupDriver = "systemd";
        bed.Create("sliced");
        var c = Assert.Single(bed.Engine.Containers);
        Assert.NotNull(c.HostConfig);
        Assert.NotNull(c.Config);
        Assert.StartsWith("ds01-", c.HostConfig.CgroupParent);
        Assert.EndsWith(".slice", c.HostConfig.CgroupParent);
        Assert.Equal(c.HostConfig.CgroupParent, c.Config.Labels[Labels.Slice]);
    }
}
