using System.Text;
using System.Text.RegularExpressions;
using Ds01.Core;
using Ds01.Core.Configuration;
using Ds01.Core.Events;
using Ds01.Core.Gpu;
using Ds01.Core.Identity;
using Ds01.Core.Naming;
using FsCheck;
using FsCheck.Xunit;
using Xunit;

namespace Ds01.Tests.Unit.Hardening;

/// <summary>
/// Property-based checks (FsCheck) of every parser that reads text a user, an admin or a driver controls: on any
/// input each either answers or throws a Ds01Exception of kind InvalidData, never anything else; and what a
/// writer makes reads back the same.
/// </summary>
public class InputProperties
{
    // Pieces of YAML that make the parser's interesting paths likely: keys it knows, anchors, aliases, merges,
    // flow collections, tabs, huge numbers, document separators, quotes.
    private static readonly string[] YamlTokens =
    {
        "defaults:", "users:", "groups:", "admins:", "alice:", "members:", "gpu_limit:", "memory_limit:", "cpu_limit:",
        "max_containers:", "gpu_hold_after_stop_minutes:", "allowed_mount_roots:", "workspace_root:", "attach:", "gpus:",
        "index:", "uuid:", "lock_timeout_seconds:", " ", "  ", "\n", "\n  ", "\n    ", "\t", "-", "- ", "[", "]", "{", "}",
        ",", ":", "? ", "&a ", "*a", "<<: *a", "!!str ", "1", "0", "-1", "1.5", "1e999", "99999999999999999999", "16G",
        "unlimited", "null", "~", "true", "'", "\"", "#", "---", "...", "|", ">", "%YAML 1.2\n", "\u00e9", "\0",
    };

    private static string Soup(string[] tokens, byte[] picks) =>
        string.Concat((picks ?? Array.Empty<byte>()).Select(b => tokens[b % tokens.Length]));

    private static void OnlyInvalidData(Action parse)
    {
        try { parse(); }
        catch (Ds01Exception e) { Assert.Equal(Ds01ErrorKind.InvalidData, e.Kind); }
    }

    [Property(MaxTest = 500)]
    public void The_limits_parser_answers_or_reports_InvalidData_problems_and_Parse_fails_exactly_when_Validate_finds_one(byte[] picks)
    {
        var yaml = Soup(YamlTokens, picks);
        var problems = ResourceLimitsConfig.Validate("/etc/ds01/resource-limits.yaml", yaml);
        Assert.All(problems, p => Assert.Equal("/etc/ds01/resource-limits.yaml", p.File));
        try
        {
            ResourceLimitsConfig.Parse("/etc/ds01/resource-limits.yaml", yaml);
            Assert.Empty(problems);
        }
        catch (ConfigException e)
        {
            Assert.Equal(Ds01ErrorKind.InvalidData, e.Kind);
            Assert.NotEmpty(problems);
            Assert.Equal(problems[0].Code, e.ErrorId);
        }
        OnlyInvalidData(() => GpuConfig.Parse("/etc/ds01/gpu-config.yaml", yaml));
    }

    [Property(MaxTest = 300)]
    public void The_limits_parser_never_throws_anything_but_InvalidData_on_arbitrary_text(string text)
    {
        text ??= "";
        Assert.All(ResourceLimitsConfig.Validate("f.yaml", text), p => Assert.False(string.IsNullOrEmpty(p.Code)));
        OnlyInvalidData(() => ResourceLimitsConfig.Parse("f.yaml", text));
        OnlyInvalidData(() => GpuConfig.Parse("f.yaml", text));
    }

    private static readonly string[] SmiTokens =
    {
        "GPU ", "0", "1", "7", "1023", "1024", "99999999999", ": ", "NVIDIA H100 80GB HBM3", " (UUID: ", "GPU-", "MIG-",
        "aaaa-1111", ")", "\n", "\r\n", "  MIG ", "1g.10gb", "3g.40gb", "7g.80gb", "9g.1gb", "     Device  ", "\t", ",", ", ",
        "[N/A]", "[MiB]", " MiB", "index", "uuid", "memory.total", "Enabled", "Disabled", "No devices were found", "\u00ff", "\0",
    };

    [Property(MaxTest = 500)]
    public void The_nvidia_smi_parser_answers_or_reports_InvalidData_on_any_output(byte[] picks, string arbitrary)
    {
        foreach (var text in new[] { Soup(SmiTokens, picks), arbitrary ?? "" })
        {
            OnlyInvalidData(() => NvidiaSmiParser.ParseList(text));
            OnlyInvalidData(() => NvidiaSmiParser.ParseQuery(text, GpuInventory.QueryFields));
            OnlyInvalidData(() => NvidiaSmiParser.ParseQuery(text));
            OnlyInvalidData(() =>
                NvidiaSmiParser.BuildSlots(NvidiaSmiParser.ParseList(text), NvidiaSmiParser.ParseQuery(text, GpuInventory.QueryFields)));
        }
    }

    [Property(MaxTest = 300)]
    public void Listed_gpus_read_back_as_written(byte[] indexSeeds, byte[] modelSeeds)
    {
        const string modelChars = "ABCDEFGHxyz0123456789- ()";
        var indexes = (indexSeeds ?? Array.Empty<byte>()).Select(b => b * 4 % (NvidiaSmiParser.MaxIndex + 1)).Distinct().ToList();
        var gpus = indexes.Select((index, n) =>
        {
            var seed = modelSeeds is { Length: > 0 } ? modelSeeds[n % modelSeeds.Length] : (byte)0;
            var model = ("NVIDIA " + new string(Enumerable.Range(0, 1 + seed % 12).Select(k => modelChars[(seed + k * 7) % modelChars.Length]).ToArray())).Trim();
            return (Index: index, Model: model, Uuid: $"GPU-{index:x8}-{n:x4}-4000-8000-000000000000");
        }).ToList();
        var text = string.Concat(gpus.Select(g => $"GPU {g.Index}: {g.Model} (UUID: {g.Uuid})\n"));
        var parsed = NvidiaSmiParser.ParseList(text);
        Assert.Equal(gpus.Select(g => (g.Index, g.Model, g.Uuid)), parsed.Select(p => (p.Index, p.Model, p.Uuid)));
        Assert.All(parsed, p => Assert.Empty(p.MigDevices));
    }

    private static readonly Regex SanitizedName = new("^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\\z");

    [Property(MaxTest = 1000)]
    public void The_username_sanitiser_always_gives_a_valid_short_name_and_is_idempotent(NonEmptyString name)
    {
        var once = UsernameSanitizer.Sanitize(name.Get);
        Assert.Matches(SanitizedName, once);
        Assert.InRange(once.Length, 1, UsernameSanitizer.MaxLength);
        Assert.Equal(once, UsernameSanitizer.Sanitize(once));
    }

    [Property(MaxTest = 300)]
    public void Long_names_that_differ_keep_distinct_sanitised_names(PositiveInt a, PositiveInt b)
    {
        // Same 40-character prefix, different tails: truncation alone would make them one account.
        var prefix = new string('x', 40);
        var left = UsernameSanitizer.Sanitize(prefix + a.Get);
        var right = UsernameSanitizer.Sanitize(prefix + b.Get);
        Assert.Equal(a.Get == b.Get, left == right);
    }

    // Docker's own rule for container names (daemon/names: [a-zA-Z0-9][a-zA-Z0-9_.-]+).
    private static readonly Regex DockerName = new("^[a-zA-Z0-9][a-zA-Z0-9_.-]+\\z");

    [Property(MaxTest = 1000)]
    public void A_name_Ds01_accepts_gives_a_tag_Docker_accepts_that_splits_back_into_name_and_uid(string name, NonNegativeInt uid)
    {
        name ??= "";
        var expected = name.Length is >= 1 and <= 63 && char.IsAsciiLetterOrDigit(name[0])
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
        Assert.Equal(expected, ContainerNaming.IsValidName(name));
        if (expected)
        {
            var tag = ContainerNaming.Tag(name, uid.Get);
            Assert.Matches(DockerName, tag);
            Assert.Equal((name, (int?)uid.Get), ContainerNaming.ParseTag(tag));
            ContainerNaming.ValidateName(name);
        }
        else
        {
            var e = Assert.Throws<Ds01Exception>(() => ContainerNaming.ValidateName(name));
            Assert.Equal((Ds01ErrorKind.InvalidArgument, "InvalidContainerName", (object)name), (e.Kind, e.ErrorId, e.Target!));
        }
    }

    [Property(MaxTest = 200)]
    public void The_event_reader_never_throws_on_arbitrary_bytes_and_accounts_for_every_line(byte[] bytes)
    {
        bytes ??= Array.Empty<byte>();
        var file = Path.Combine(Path.GetTempPath(), "ds01-prop-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            File.WriteAllBytes(file, bytes);
            var stats = new EventReadStats();
            var events = EventReader.Read(new[] { file }, null, stats).ToList();
            var lines = Encoding.Latin1.GetString(bytes).Split('\n').Count(l => l.Length > 0);
            Assert.Equal(lines, stats.Lines);
            Assert.Equal(stats.Lines, events.Count + stats.Invalid);
        }
        finally { File.Delete(file); }
    }

    [Property(MaxTest = 200)]
    public void Events_read_back_as_written_and_a_log_cut_anywhere_gives_only_the_whole_lines_before_the_cut(
        NonEmptyString[] users, NonNegativeInt cutSeed)
    {
        users ??= Array.Empty<NonEmptyString>();
        var dir = Directory.CreateTempSubdirectory("ds01-prop-").FullName;
        try
        {
            var file = Path.Combine(dir, "events.jsonl");
            File.WriteAllBytes(file, Array.Empty<byte>());
            var log = new EventLog(file, "prop");
            var at = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
            for (var i = 0; i < users.Length; i++)
                Assert.Null(log.Write("test.prop", users[i].Get, new Dictionary<string, object?> { ["n"] = i }, at.AddSeconds(i)));
            var read = EventReader.Read(new[] { file }, null, new EventReadStats()).ToList();
            Assert.Equal(users.Select(u => u.Get), read.Select(e => e.User));
            Assert.All(read, e => Assert.Equal("test.prop", e.Type));

            // A crash in the middle of a write (or a copy cut short) leaves a prefix of the file.
            var bytes = File.ReadAllBytes(file);
            var cut = bytes.Length == 0 ? 0 : cutSeed.Get % (bytes.Length + 1);
            File.WriteAllBytes(file, bytes[..cut]);
            // Whole lines: those whose newline survived, and the one cut exactly before its newline.
            var whole = bytes[..cut].Count(b => b == (byte)'\n') + (cut > 0 && cut < bytes.Length && bytes[cut] == (byte)'\n' ? 1 : 0);
            var afterCut = EventReader.Read(new[] { file }, null, new EventReadStats()).ToList();
            Assert.Equal(users.Take(whole).Select(u => u.Get), afterCut.Select(e => e.User));
        }
        finally { Directory.Delete(dir, true); }
    }
}
