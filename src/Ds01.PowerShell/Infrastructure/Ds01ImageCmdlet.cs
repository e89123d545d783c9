using System.Collections.Concurrent;
using System.Management.Automation;
using Ds01.Core.Images;

namespace Ds01.PowerShell;

/// <summary>Shared plumbing of the image cmdlets: the image service, and a build log pumped onto the pipeline thread.</summary>
public abstract class Ds01ImageCmdlet : Ds01ContainerCmdlet
{
    private ImageService? _images;

    protected ImageService Images => _images ??= new ImageService(Session, Engine);

    /// <summary>
    /// Runs a build on a worker thread and shows its log here: Write-Progress per Dockerfile step, every line as
    /// verbose. Docker.DotNet reports from its reader thread, and Write* may only be called from the pipeline thread.
    /// </summary>
    protected Ds01Image RunBuild(string activity, Func<IProgress<BuildMessage>, Task<Ds01Image>> work)
    {
        using var queue = new BlockingCollection<BuildMessage>();
        var task = Task.Run(async () =>
        {
            try { return await work(new QueueProgress(queue)).ConfigureAwait(false); }
            finally { queue.CompleteAdding(); }
        });
        var record = new ProgressRecord(1, activity, "Sending the build context");
        WriteProgress(record);
        foreach (var m in queue.GetConsumingEnumerable())
        {
            WriteVerbose(m.Line);
            if (m.Step is { } step && m.StepCount is { } count && count > 0)
            {
                record.StatusDescription = m.Line.Length > 120 ? m.Line[..117] + "..." : m.Line;
                record.PercentComplete = Math.Clamp((step - 1) * 100 / count, 0, 100);
                WriteProgress(record);
            }
        }
        record.RecordType = ProgressRecordType.Completed;
        WriteProgress(record);
        return Await(task);
    }

    private sealed class QueueProgress : IProgress<BuildMessage>
    {
        private readonly BlockingCollection<BuildMessage> _queue;
        public QueueProgress(BlockingCollection<BuildMessage> queue) => _queue = queue;
        public void Report(BuildMessage value) => _queue.Add(value);
    }

    /// <summary>-UseCase values, as the seeds spell them.</summary>
    protected static UseCase ParseUseCase(string? value) => (value ?? "custom").ToLowerInvariant() switch
    {
        "cv" => UseCase.Cv,
        "nlp" => UseCase.Nlp,
        "rl" => UseCase.Rl,
        "ml" => UseCase.Ml,
        _ => UseCase.Custom,
    };
}
