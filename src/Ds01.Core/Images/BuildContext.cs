using System.Formats.Tar;
using System.Text;

namespace Ds01.Core.Images;

/// <summary>The docker build context: an in-memory tar holding only the Dockerfile, so no host file leaks into a build.</summary>
public static class BuildContext
{
    public const string DockerfileName = "Dockerfile";

    public static MemoryStream Create(string dockerfileText)
    {
        var stream = new MemoryStream();
        using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, DockerfileName)
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(dockerfileText)),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                ModificationTime = DateTimeOffset.UnixEpoch, // a fixed time keeps the context, and so the cache key, stable
            };
            tar.WriteEntry(entry);
        }
        stream.Position = 0;
        return stream;
    }
}
