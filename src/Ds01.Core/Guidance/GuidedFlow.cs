using Ds01.Core.Containers;

namespace Ds01.Core.Guidance;

/// <summary>
/// One step of a guided command: what it is about, explained before anything happens, and optionally the
/// parameter it asks for when the user left it out (with the question and what an empty answer means).
/// </summary>
public sealed record GuidedStep(string Title, string Explanation, string? Parameter = null, string? Question = null, string? EmptyMeans = null);

/// <summary>
/// A command's guided mode (-Guided in pwsh, --guided in ds01): the steps, then what will happen, then a yes/no.
/// The texts live here only, so every host shows the same words.
/// </summary>
public sealed record GuidedFlow(string Cmdlet, string Caption, IReadOnlyList<GuidedStep> Steps, string WhatHappens)
{
    /// <summary>The question asked before acting.</summary>
    public const string Confirm = "Go ahead?";

    /// <summary>Said when the user answers no: nothing was changed.</summary>
    public const string Declined = "Stopped at your answer; nothing was changed.";
}

/// <summary>The guided flows of the commands a beginner uses, and which containers a name picker offers.</summary>
public static class GuidedFlows
{
    private const string ContainerIs =
        "A container is your own isolated Linux machine on this server: your programs, Python packages and running " +
        "jobs live inside it, and your workspace folder on the server is mounted at /workspace, so files you save " +
        "there outlive the container.";

    private const string GpuHold =
        "Your GPU hold: a GPU (or a MIG slice of one) is reserved for one container at a time. The slot is chosen and " +
        "recorded when the container is created; it stays yours while the container runs and for a while after it " +
        "stops, and removing the container frees it at once.";

    private const string ImageIs =
        "An image is the template a container starts from: the operating system, CUDA, the framework (PyTorch, " +
        "TensorFlow, JAX) and your packages, built once and reused for every container of a project.";

    private static readonly GuidedStep PickContainer = new("Which container",
        "Choose one of your containers by name (Get-Ds01Container lists them).", "Name", "Container name");

    public static readonly IReadOnlyList<GuidedFlow> All =
    [
        new("New-Ds01Container", "Create a container (step by step)",
        [
            new("What a container is", ContainerIs, "Name", "Name for the new container (letters, digits, - and _)"),
            new("The image", ImageIs + " Leave it empty to use your project's image (ds01-<uid>/<name>:latest, made by Build-Ds01Image).",
                "Image", "Image to start from", "your project image"),
            new("The GPU", GpuHold + " Ask for 0 GPUs for a CPU-only container; the quota (Get-Ds01ResourceLimit) caps how many you may hold.",
                "GpuCount", "How many GPUs", "1"),
        ],
        "The container is created with your CPU and memory limits fixed, a GPU slot is reserved for it, and nothing runs yet: start it with Start-Ds01Container."),
        new("Deploy-Ds01Container", "Deploy a container: create and start it (step by step)",
        [
            new("What a container is", ContainerIs, "Name", "Name for the new container (letters, digits, - and _)"),
            new("The image", ImageIs + " Leave it empty to use your project's image (ds01-<uid>/<name>:latest, made by Build-Ds01Image).",
                "Image", "Image to start from", "your project image"),
            new("The GPU", GpuHold + " Ask for 0 GPUs for a CPU-only container; the quota (Get-Ds01ResourceLimit) caps how many you may hold.",
                "GpuCount", "How many GPUs", "1"),
        ],
        "The container is created with your limits and a GPU slot, then started in the background (with -Open, a shell opens in it)."),
        new("Start-Ds01Container", "Start a container (step by step)",
        [
            PickContainer,
            new("What starting does", "Starting runs the container in the background; it keeps running after you close your terminal. " + GpuHold),
        ],
        "Docker starts the container; open a shell in it with Enter-Ds01Container."),
        new("Stop-Ds01Container", "Stop a container (step by step)",
        [
            PickContainer,
            new("Stop, exit and remove", "Stopping ends every process in the container (unsaved work in memory is lost; files in /workspace stay). " +
                "Typing 'exit' in a shell only leaves the shell; the container keeps running. " + GpuHold),
        ],
        "Docker asks the container's processes to end, and kills them after the timeout."),
        new("Remove-Ds01Container", "Remove a container (step by step)",
        [
            PickContainer,
            new("What removing does", "Removing deletes the container and what was installed inside it (not saved in an image), and frees its GPU at once. " +
                "Your workspace folder on the server is not touched. A running container must be stopped first (-Stop does both)."),
        ],
        "The container is deleted and its GPU returned to the pool."),
        new("Suspend-Ds01Container", "Pause a container (step by step)",
        [
            PickContainer,
            new("What pausing does", "Pausing freezes every process in the container: it uses no CPU, keeps its memory and its GPU, and " +
                "carries on exactly where it was when resumed (Resume-Ds01Container)."),
        ],
        "Docker freezes the container's processes."),
        new("Resume-Ds01Container", "Resume a paused container (step by step)",
        [
            PickContainer,
            new("What resuming does", "Resuming lets the frozen processes carry on where they stopped; nothing was lost while paused."),
        ],
        "Docker unfreezes the container's processes."),
        new("Enter-Ds01Container", "Open a shell in a container (step by step)",
        [
            PickContainer,
            new("Inside the container", "You get a shell inside the container, as yourself. 'exit' or Ctrl+D leaves the shell and the container keeps " +
                "running (and holding its GPU); stop or remove it when you are done."),
        ],
        "A shell opens in the container; this terminal is handed to it until you leave."),
        new("Invoke-Ds01ContainerCommand", "Run a command in a container (step by step)",
        [
            PickContainer,
            new("Running a command", "The program runs inside the running container, as yourself, and its output comes back here. The container keeps running afterwards.",
                "Command", "Program to run (for example: nvidia-smi)"),
        ],
        "The command runs in the container and its output is printed here."),
        new("Build-Ds01Image", "Build a project image (step by step)",
        [
            new("What an image is", ImageIs, "Project", "Project name (the image is tagged ds01-<uid>/<project>:latest)"),
            new("The framework", "The base comes from the lab's AIME catalog (Get-Ds01Framework lists it): PyTorch, TensorFlow or JAX with matching CUDA.",
                "Framework", "Framework (pytorch, tensorflow or jax)"),
            new("The build", "Ds01 writes a Dockerfile in phases (framework, Jupyter, data science, your use case and packages), " +
                "builds it and bakes your user into it. A first build downloads the base and can take 2-10 minutes; progress is shown."),
        ],
        "The Dockerfile is written and the image built; containers of this project then start from it."),
        new("Initialize-Ds01Project", "Set up a project (step by step)",
        [
            new("What a project is", "A project is a folder for your work (your workspace, mounted at /workspace in its containers), a Dockerfile " +
                "that describes its image, and the image itself. " + ImageIs, "Project", "Project name (letters, digits, - and _; e.g. my-thesis)"),
            new("The framework", "The base comes from the lab's AIME catalog (Get-Ds01Framework lists it): PyTorch, TensorFlow or JAX with matching CUDA.",
                "Framework", "Framework (pytorch, tensorflow or jax)"),
            new("Only what is missing", "A folder or Dockerfile that is already there is kept as it is, so running this twice is safe. " +
                "With -Build the image is built too (2-10 minutes the first time)."),
        ],
        "The workspace folder and the Dockerfile are made where missing (and with -Build the image); launch it with Start-Ds01Project."),
        new("Initialize-Ds01User", "Set up your account on this server (step by step)",
        [
            new("Your folders", "Ds01 keeps your projects' workspaces, their Dockerfiles and your data in folders in your home; the missing ones are made."),
            new("Your SSH key", "An SSH key (~/.ssh/id_ed25519) lets this server prove who you are to others (GitHub, other servers). " +
                "It is made with ssh-keygen only if you have none; an existing key is never replaced."),
            new("VS Code", "VS Code's Remote-SSH extension edits files here from your own computer. Ds01 writes the lines for your computer's " +
                "~/.ssh/config into ~/.config/ds01 and prints them; it never edits an ssh config itself."),
            new("A starter container", ContainerIs, "StarterContainer", "Name for a starter container", "no container"),
            new("Next steps", "At the end you get the SSH command, the Jupyter address of your container and where to find help."),
        ],
        "The missing folders, key and VS Code snippet are made (and the starter container deployed); what exists already is left alone."),
    ];

    private static readonly Dictionary<string, GuidedFlow> ByCmdlet = All.ToDictionary(f => f.Cmdlet, StringComparer.OrdinalIgnoreCase);

    public static GuidedFlow? Find(string cmdlet) => ByCmdlet.GetValueOrDefault(cmdlet);

    /// <summary>
    /// The containers a name picker offers for a command: Start the stopped ones, Stop the running ones, attach (Enter
    /// without -Start) the running ones only; null means all of the caller's.
    /// </summary>
    public static IReadOnlyCollection<ContainerState>? PickStates(string cmdlet, bool startFirst = false) => cmdlet switch
    {
        "Start-Ds01Container" => [ContainerState.Created, ContainerState.Stopped],
        "Stop-Ds01Container" => [ContainerState.Running, ContainerState.Paused],
        "Suspend-Ds01Container" => [ContainerState.Running],
        "Resume-Ds01Container" => [ContainerState.Paused],
        "Enter-Ds01Container" when !startFirst => [ContainerState.Running],
        "Invoke-Ds01ContainerCommand" => [ContainerState.Running],
        _ => null,
    };

    /// <summary>The picker's caption for a command's containers.</summary>
    public static string PickCaption(IReadOnlyCollection<ContainerState>? states) => states switch
    {
        null => "Choose a container",
        _ => $"Choose a container ({string.Join(" or ", states.Select(s => s.ToString().ToLowerInvariant()))})",
    };
}
