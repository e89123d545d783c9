using Ds01.Core.Configuration;
using Xunit;

namespace Ds01.Tests.Unit.Configuration;

public class ByteSizeTests
{
    [Theory]
    [InlineData("32G", 34359738368L)]
    [InlineData("16g", 17179869184L)]
    [InlineData("512M", 536870912L)]
    [InlineData("1T", 1099511627776L)]
    [InlineData("1024", 1024L)]
    [InlineData("2GiB", 2147483648L)]
    public void Parses_binary_units_as_docker_does(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("32X")]
    [InlineData("-1G")]
    [InlineData("")]
    public void Rejects_what_is_not_a_size(string text) => Assert.False(ByteSize.TryParse(text, out _));
}
