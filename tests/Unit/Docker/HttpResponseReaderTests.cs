using System.Text;
using Ds01.Core.Docker;
using Xunit;

namespace Ds01.Tests.Unit.Docker;

/// <summary>The HTTP answer reader of the socket fast path: each framing Docker and ds01d use, and broken answers.</summary>
public class HttpResponseReaderTests
{
    private static (int, string) Read(string raw)
    {
        var (status, body) = HttpResponseReader.Read(new MemoryStream(Encoding.ASCII.GetBytes(raw)));
        return (status, Encoding.UTF8.GetString(body));
    }

    [Fact]
    public void Content_length_bodies_are_read_exactly()
    {
        Assert.Equal((200, "[1,2]"), Read("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n[1,2]trailing"));
    }

    [Fact]
    public void Chunked_bodies_are_joined_and_chunk_extensions_ignored()
    {
        Assert.Equal((200, "[{\"Id\":\"a\"}]"),
            Read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n[{\"I\r\n8\r\nd\":\"a\"}]\r\n0\r\n\r\n"));
    }

    [Fact]
    public void Without_a_length_the_body_runs_to_the_close()
    {
        Assert.Equal((404, "{\"message\":\"No such container: x\"}"),
            Read("HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\n\r\n{\"message\":\"No such container: x\"}"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("SSH-2.0-OpenSSH\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n")]
    public void A_broken_answer_is_invalid_data_not_a_hang_or_a_partial_list(string raw)
    {
        Assert.Throws<InvalidDataException>(() => HttpResponseReader.Read(new MemoryStream(Encoding.ASCII.GetBytes(raw))));
    }
}
