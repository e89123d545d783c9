using Ds01.Core;
using Ds01.Core.Identity;
using Ds01.Service;
using Ds01.Service.Binds;
using Ds01.Service.Install;
using Ds01.Service.Policy;
using Ds01.Service.Proxy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

const string Usage = """
usage: ds01d run [--socket PATH] [--docker ENDPOINT] [--config DIR] [--state DIR] [--log DIR] [--status-listen 127.0.0.1:PORT] [--binds DIR] [--slurm-node NAME]
       ds01d install [--root DIR] [--exec PATH] [--config DIR] [--no-systemctl]
       ds01d install --direct [--root DIR] [--config DIR]   (no service: root-owned shared state for direct mode)
       ds01d uninstall [--root DIR] [--no-systemctl]
""";

if (args.Length == 0 || args[0] is "-h" or "--help") { Console.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
var options = ParseOptions(args.Skip(1).ToArray());
if (options is null) { Console.Error.WriteLine(Usage); return 2; }
// The node name is compared with squeue's; anything beyond Slurm's name characters is a typo.
if (options.GetValueOrDefault("slurm-node") is { } nodeName &&
    (nodeName.Length is 0 or > 64 || !nodeName.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.')))
{
    Console.Error.WriteLine($"ds01d: --slurm-node '{nodeName}' is not a Slurm node name (1-64 letters, digits, '_', '-' or '.').");
    return 2;
}

try
{
    switch (args[0])
    {
        case "run":
            await RunAsync(ToServiceOptions(options));
            return 0;
        case "install" when options.ContainsKey("direct"):
            // Nothing of the service's is written, so its options would be silently ignored: a usage error instead.
            if (options.ContainsKey("exec") || options.ContainsKey("no-systemctl")) { Console.Error.WriteLine(Usage); return 2; }
            return new Installer(options.GetValueOrDefault("root") ?? "/", systemctl: false).InstallDirect(options.GetValueOrDefault("config") ?? Ds01Paths.DefaultConfigDir);
        case "install":
            return new Installer(options.GetValueOrDefault("root") ?? "/", !options.ContainsKey("no-systemctl")).Install(
                options.GetValueOrDefault("exec") ?? Environment.ProcessPath ?? "/usr/local/bin/ds01d", options.GetValueOrDefault("config") ?? "/etc/ds01");
        case "uninstall":
            return new Installer(options.GetValueOrDefault("root") ?? "/", !options.ContainsKey("no-systemctl")).Uninstall();
        default:
            Console.Error.WriteLine(Usage);
            return 2;
    }
}
catch (Ds01Exception e)
{
    // The id, as the cmdlets' error records carry it, so scripts and tests need not match the wording.
    Console.Error.WriteLine($"ds01d: {e.Message}{(e.RecommendedAction is null ? "" : " " + e.RecommendedAction)} (id: {e.ErrorId})");
    return 1;
}

static Dictionary<string, string?>? ParseOptions(string[] rest)
{
    var flags = new HashSet<string> { "no-systemctl", "direct" };
    var result = new Dictionary<string, string?>();
    for (var i = 0; i < rest.Length; i++)
    {
        if (!rest[i].StartsWith("--", StringComparison.Ordinal)) return null;
        var key = rest[i][2..];
        if (flags.Contains(key)) { result[key] = "true"; continue; }
        if (i + 1 >= rest.Length) return null;
        result[key] = rest[++i];
    }
    return result;
}

static ServiceOptions ToServiceOptions(Dictionary<string, string?> o) => new()
{
    Socket = o.GetValueOrDefault("socket") ?? ServiceOptions.DefaultSocket,
    Docker = o.GetValueOrDefault("docker") ?? "unix:///var/run/docker.sock",
    Paths = new Ds01Paths(o.GetValueOrDefault("config") ?? "/etc/ds01", o.GetValueOrDefault("state") ?? "/var/lib/ds01", o.GetValueOrDefault("log") ?? "/var/log/ds01"),
    StatusListen = o.GetValueOrDefault("status-listen"),
    Binds = o.GetValueOrDefault("binds") ?? ServiceOptions.DefaultBinds,
    SlurmNode = o.GetValueOrDefault("slurm-node") ?? ServiceOptions.DefaultSlurmNode(),
};

static async Task RunAsync(ServiceOptions options)
{
    var status = options.StatusListen is { } listen ? StatusEndpoints.Parse(listen) : null;
    // Policy comes from the command line only: the DS01_* variables of whoever started us change nothing.
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Socket))!);
    if (File.Exists(options.Socket)) File.Delete(options.Socket); // a stale socket of an earlier run
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
    builder.Logging.SetMinimumLevel(LogLevel.Information);
    builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
    builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(5));
    builder.Services.AddSingleton(options);
    builder.Services.AddSingleton(new Upstream(options.Docker));
    builder.Services.AddSingleton<IIdentitySource, OsIdentitySource>();
    builder.Services.AddSingleton(new ConfigCache(options.Paths));
    builder.Services.AddSingleton<RequestPolicy>();
    builder.Services.AddSingleton(sp => new BindMounter(options.Binds,
        warning => sp.GetRequiredService<ILoggerFactory>().CreateLogger("ds01d").LogWarning("{Warning}", warning)));
    builder.WebHost.ConfigureKestrel(k =>
    {
        k.ListenUnixSocket(options.Socket, l => l.UseConnectionHandler<DockerApiConnectionHandler>());
        if (status is not null) k.Listen(status);
    });
    var app = builder.Build();
    // Binds of containers removed behind ds01d's back (docker run --rm, an admin on dockerd's socket): at start-up and every 10 minutes.
    async Task SweepBinds()
    {
        try
        {
            using var sweep = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var removed = await app.Services.GetRequiredService<RequestPolicy>().SweepBindsAsync(sweep.Token);
            if (removed > 0) app.Logger.LogInformation("removed {Count} bind directories no container uses", removed);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or Ds01Exception or UnauthorizedAccessException)
        {
            app.Logger.LogWarning("could not sweep unused bind directories: {Message}", e.Message);
        }
    }
    await SweepBinds();
    _ = Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(10));
        try { while (await timer.WaitForNextTickAsync(app.Lifetime.ApplicationStopping)) await SweepBinds(); }
        catch (OperationCanceledException) { }
    });
    if (options.StatusListen is not null) StatusEndpoints.Map(app, options);
    await app.StartAsync();
    // Anyone may connect; who they are comes from SO_PEERCRED, not from the socket's mode.
    File.SetUnixFileMode(options.Socket, (UnixFileMode)Convert.ToInt32("666", 8));
    app.Logger.LogInformation("ds01d listening on {Socket}, forwarding to {Docker}", options.Socket, options.Docker);
    await app.WaitForShutdownAsync();
    try { File.Delete(options.Socket); } catch (IOException) { }
}
