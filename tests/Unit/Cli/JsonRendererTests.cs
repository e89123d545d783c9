using System.Collections;
using System.Management.Automation;
using System.Text.Json;
using Ds01.Cli;
using Xunit;

namespace Ds01.Tests.Unit.Cli;

public class JsonRendererTests
{
    private sealed class Sample
    {
        public string Name { get; init; } = "alice-pytorch";
        public DayOfWeek Day { get; init; } = DayOfWeek.Monday;
        public DateTimeOffset Created { get; init; } = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
        public string? Missing { get; init; }
        public Hashtable Labels { get; init; } = new() { ["team"] = "vision" };
    }

    private static JsonElement Render(params object?[] output) =>
        JsonDocument.Parse(JsonRenderer.Serialize(output)).RootElement;

    [Fact]
    public void Writes_one_array_with_public_and_note_properties()
    {
        var wrapped = new PSObject(new Sample());
        wrapped.Properties.Add(new PSNoteProperty("Extra", 7));

        var root = Render(wrapped, "text", 3);

        Assert.Equal(JsonValueKind.Array, root.ValueKind);
        var first = root[0];
        Assert.Equal("alice-pytorch", first.GetProperty("Name").GetString());
        Assert.Equal("Monday", first.GetProperty("Day").GetString());
        Assert.Equal("2024-01-02T03:04:05+00:00", first.GetProperty("Created").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("Missing").ValueKind);
        Assert.Equal("vision", first.GetProperty("Labels").GetProperty("team").GetString());
        Assert.Equal(7, first.GetProperty("Extra").GetInt32());
        Assert.Equal("text", root[1].GetString());
        Assert.Equal(3, root[2].GetInt32());
    }

    [Fact]
    public void Limits_nesting_so_cycles_end()
    {
        var a = new PSObject();
        a.Properties.Add(new PSNoteProperty("Self", a));

        var root = Render(a);

        var level = root[0];
        for (var i = 0; i < JsonRenderer.MaxDepth; i++) level = level.GetProperty("Self");
        Assert.Equal(JsonValueKind.String, level.ValueKind);
    }

    [Fact]
    public void Empty_output_is_an_empty_array() => Assert.Equal(0, Render().GetArrayLength());
}
