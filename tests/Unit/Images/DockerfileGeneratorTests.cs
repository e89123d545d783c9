using Ds01.Core;
using Ds01.Core.Images;
using Xunit;

namespace Ds01.Tests.Unit.Images;

public class DockerfileGeneratorTests
{
    private static DockerfileSpec Spec(
        IReadOnlyList<string>? packages = null, UseCase useCase = UseCase.Cv, bool jupyter = true, bool dataScience = true,
        string baseImage = "aimehub/pytorch-2.5.1-aime-cuda12.1.1", string userName = "h-baker-at-hertie-school-lan",
        int uid = 1722830498, int gid = 1722800513, string project = "my-thesis") => new()
    {
        Project = project,
        BaseImage = baseImage,
        Framework = "Pytorch",
        Version = "2.5.1",
        UseCase = useCase,
        Packages = packages ?? ["wandb", "numpy>=1.26"],
        Jupyter = jupyter,
        DataScience = dataScience,
        UserName = userName,
        Uid = uid,
        Gid = gid,
    };

    private static int IndexOf(string text, string needle)
    {
        var i = text.IndexOf(needle, StringComparison.Ordinal);
        Assert.True(i >= 0, $"'{needle}' is missing from:\n{text}");
        return i;
    }

    [Fact]
    public void Phases_come_in_DS01_order()
    {
        var text = DockerfileGenerator.Generate(Spec());

        int[] positions =
        [
            IndexOf(text, "FROM aimehub/pytorch-2.5.1-aime-cuda12.1.1"),
            IndexOf(text, "'jupyterlab' 'ipykernel' 'ipywidgets'"),
            IndexOf(text, "'pandas' 'scipy' 'scikit-learn' 'matplotlib' 'seaborn'"),
            IndexOf(text, "'timm' 'albumentations' 'opencv-python-headless'"),
            IndexOf(text, DockerfileGenerator.PackagesMarker + "\nRUN pip install --no-cache-dir 'wandb' 'numpy>=1.26'"),
            IndexOf(text, "useradd"),
            IndexOf(text, "LABEL "),
            IndexOf(text, "USER 1722830498:1722800513"),
            IndexOf(text, "WORKDIR /workspace"),
        ];
        Assert.Equal(positions.Order(), positions);
        Assert.StartsWith("FROM ", text.Split('\n').First(l => l.Length > 0 && !l.StartsWith('#')));
        for (var phase = 1; phase <= 8; phase++) IndexOf(text, $"# Phase {phase}/8");
    }

    [Theory]
    [InlineData(UseCase.Nlp, "'transformers' 'datasets' 'tokenizers'")]
    [InlineData(UseCase.Rl, "'gymnasium' 'stable-baselines3'")]
    [InlineData(UseCase.Ml, "'xgboost' 'lightgbm'")]
    public void Use_case_selects_its_packages(UseCase useCase, string expected) =>
        IndexOf(DockerfileGenerator.Generate(Spec(useCase: useCase)), expected);

    [Fact]
    public void Phases_that_are_off_install_nothing()
    {
        var text = DockerfileGenerator.Generate(Spec(packages: [], useCase: UseCase.Custom, jupyter: false, dataScience: false));

        Assert.DoesNotContain("pip install", text);
        Assert.DoesNotContain("jupyterlab", text);
        Assert.Contains("# Phase 2/8, Jupyter: notebook server and kernel: off.", text);
        Assert.Contains(DockerfileGenerator.PackagesMarker, text);
    }

    [Fact]
    public void Labels_mark_the_fast_path_and_the_owner()
    {
        var text = DockerfileGenerator.Generate(Spec());

        Assert.Contains("aime.mlc.DS01_HAS_USER_SETUP=\"true\"", text);
        Assert.Contains("aime.mlc.DS01_USER_ID=\"1722830498\"", text);
        Assert.Contains("aime.mlc.DS01_GROUP_ID=\"1722800513\"", text);
        Assert.Contains("aime.mlc.DS01_USERNAME=\"h-baker-at-hertie-school-lan\"", text);
        Assert.Contains("ds01.managed=\"true\"", text);
        Assert.Contains("ds01.project=\"my-thesis\"", text);
        Assert.Contains("ds01.user=\"h-baker-at-hertie-school-lan\"", text);
        Assert.Contains("ds01.framework=\"Pytorch-2.5.1\"", text);
        Assert.Contains("aime.mlc.FRAMEWORK=\"Pytorch-2.5.1\"", text);
    }

    [Fact]
    public void User_setup_handles_shadow_and_busybox_and_reuses_existing_ids()
    {
        var text = DockerfileGenerator.Generate(Spec(userName: "alice", uid: 1001, gid: 1002));

        Assert.Contains("uid=1001; gid=1002; name=alice", text);
        Assert.Contains("if command -v useradd >/dev/null 2>&1; then tool=shadow; elif command -v adduser >/dev/null 2>&1; then tool=busybox;", text);
        Assert.Contains("groupadd -g \"$gid\" \"$group\"", text);
        Assert.Contains("useradd -l -m -u \"$uid\" -g \"$gid\"", text);
        Assert.Contains("addgroup -g \"$gid\" \"$group\"", text);
        Assert.Contains("adduser -D -u \"$uid\" -G \"$group\"", text);
        // Existing GID/UID: look the name up instead of failing in groupadd/useradd.
        Assert.Contains("group=$(grep \"^[^:]*:[^:]*:$gid:\" /etc/group", text);
        Assert.Contains("user=$(grep \"^[^:]*:[^:]*:$uid:\" /etc/passwd", text);
    }

    [Fact]
    public void User_setup_grants_sudo_only_where_sudoers_d_exists_and_empties_lastlog_and_faillog()
    {
        var text = DockerfileGenerator.Generate(Spec());

        Assert.Contains("if [ -d /etc/sudoers.d ]; then echo \"$user ALL=(ALL) NOPASSWD:ALL\" > \"/etc/sudoers.d/$user\"", text);
        Assert.Contains("for log in /var/log/lastlog /var/log/faillog; do if [ -f \"$log\" ]; then : > \"$log\"; fi; done", text);
        // The truncation comes after the user exists, in the same layer, or the sparse file is already committed.
        var run = text.Substring(IndexOf(text, "RUN set -e"));
        run = run.Substring(0, run.IndexOf("\n\n", StringComparison.Ordinal));
        Assert.True(run.IndexOf("/var/log/lastlog", StringComparison.Ordinal) > run.IndexOf("useradd", StringComparison.Ordinal));
    }

    [Fact]
    public void User_setup_is_one_RUN_whose_continuation_lines_hold_no_comment()
    {
        var text = DockerfileGenerator.Generate(Spec());
        var lines = text.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith("RUN set -e", StringComparison.Ordinal));
        var i = start;
        while (lines[i].EndsWith('\\')) { i++; Assert.False(lines[i].TrimStart().StartsWith('#'), lines[i]); }
        Assert.Contains("sudoers", string.Join("\n", lines[start..(i + 1)]));
    }

    [Theory]
    [InlineData("numpy; rm -rf /")]
    [InlineData("$(id)")]
    [InlineData("`id`")]
    [InlineData("numpy\nRUN id")]
    [InlineData("numpy\n")]
    [InlineData("numpy'")]
    [InlineData("numpy \"x\"")]
    [InlineData("numpy && id")]
    [InlineData("-e git+https://example.org/x")]
    [InlineData("")]
    public void Package_injection_is_rejected_before_anything_is_written(string package)
    {
        var e = Assert.Throws<Ds01Exception>(() => DockerfileGenerator.Generate(Spec(packages: ["wandb", package])));

        Assert.Equal("InvalidPackageName", e.ErrorId);
        Assert.Equal(Ds01ErrorKind.InvalidArgument, e.Kind);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("transformers[torch]")]
    [InlineData("numpy==1.26.4")]
    [InlineData("torch~=2.5")]
    [InlineData("scikit_learn")]
    [InlineData("numpy<2")]
    public void Ordinary_requirements_are_accepted(string package) =>
        Assert.Contains($"'{package}'", DockerfileGenerator.Generate(Spec(packages: [package])));

    [Theory]
    [InlineData("aimehub/pytorch:2.5.1\nRUN id")]
    [InlineData("aimehub/pytorch AS evil")]
    [InlineData("$BASE")]
    [InlineData("AimeHub/Pytorch")]
    [InlineData("")]
    public void Bad_base_images_are_rejected(string image) =>
        Assert.Equal("InvalidImageReference",
            Assert.Throws<Ds01Exception>(() => DockerfileGenerator.Generate(Spec(baseImage: image))).ErrorId);

    [Theory]
    [InlineData("localhost:5000/team/pytorch:2.5.1")]
    [InlineData("pytorch/pytorch:2.5.1-cuda11.8-cudnn9-runtime")]
    [InlineData("busybox")]
    [InlineData("rocm/dev-ubuntu-20.04:5.4.2-complete")]
    [InlineData("busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Valid_base_images_are_accepted(string image) =>
        Assert.Contains($"FROM {image}\n", DockerfileGenerator.Generate(Spec(baseImage: image)));

    [Theory]
    [InlineData("Alice", 1000, 1000, "InvalidUserName")]
    [InlineData("-alice", 1000, 1000, "InvalidUserName")]
    [InlineData("alice; id", 1000, 1000, "InvalidUserName")]
    [InlineData("alice\n", 1000, 1000, "InvalidUserName")]
    [InlineData("alice", -1, 1000, "InvalidUserId")]
    [InlineData("alice", 1000, -5, "InvalidGroupId")]
    public void Bad_identity_is_rejected(string userName, int uid, int gid, string errorId) =>
        Assert.Equal(errorId,
            Assert.Throws<Ds01Exception>(() => DockerfileGenerator.Generate(Spec(userName: userName, uid: uid, gid: gid))).ErrorId);

    [Theory]
    [InlineData("My Thesis")]
    [InlineData("thesis\n")]
    public void Bad_project_names_are_rejected(string project) =>
        Assert.Equal("InvalidProjectName",
            Assert.Throws<Ds01Exception>(() => DockerfileGenerator.Generate(Spec(project: project))).ErrorId);

    [Fact]
    public void Bad_framework_label_values_are_rejected()
    {
        var spec = new DockerfileSpec
        {
            Project = "p", BaseImage = "busybox", Framework = "Pytorch\" evil=\"1", Version = "2.5.1",
            UserName = "alice", Uid = 1, Gid = 1,
        };

        Assert.Equal("InvalidFrameworkName", Assert.Throws<Ds01Exception>(() => DockerfileGenerator.Generate(spec)).ErrorId);
    }

    [Fact]
    public void ReadPackages_finds_the_extra_packages_back()
    {
        string[] packages = ["wandb", "numpy>=1.26", "transformers[torch]"];

        var text = DockerfileGenerator.Generate(Spec(packages: packages));

        Assert.Equal(packages, DockerfileGenerator.ReadPackages(text));
    }

    [Fact]
    public void ReadPackages_reads_a_hand_edited_run_and_ignores_other_phases()
    {
        const string text = "FROM busybox\nRUN pip install 'jupyterlab'\n# ds01:packages\nRUN pip install --no-cache-dir wandb \\\n    \"rich\"\n\nUSER 1:1\n";

        Assert.Equal(["wandb", "rich"], DockerfileGenerator.ReadPackages(text));
        Assert.Empty(DockerfileGenerator.ReadPackages("FROM busybox\nRUN pip install jupyterlab\n"));
    }

    [Fact]
    public void ReplacePackages_rewrites_only_the_marked_run()
    {
        var text = DockerfileGenerator.Generate(Spec(packages: ["wandb"])) + "# my own edit\n";

        var updated = DockerfileGenerator.ReplacePackages(text, ["wandb", "rich"]);
        Assert.Equal(["wandb", "rich"], DockerfileGenerator.ReadPackages(updated));
        Assert.Contains("# my own edit\n", updated);
        Assert.Contains("'jupyterlab'", updated);

        var emptied = DockerfileGenerator.ReplacePackages(updated, []);
        Assert.Empty(DockerfileGenerator.ReadPackages(emptied));
        Assert.Equal(DockerfileGenerator.Generate(Spec(packages: [])) + "# my own edit\n", emptied);
    }

    [Fact]
    public void ReplacePackages_validates_and_needs_the_marker()
    {
        var text = DockerfileGenerator.Generate(Spec());

        Assert.Equal("InvalidPackageName",
            Assert.Throws<Ds01Exception>(() => DockerfileGenerator.ReplacePackages(text, ["x; id"])).ErrorId);
        Assert.Equal("PackagesMarkerNotFound",
            Assert.Throws<Ds01Exception>(() => DockerfileGenerator.ReplacePackages("FROM busybox\n", ["wandb"])).ErrorId);
    }
}
