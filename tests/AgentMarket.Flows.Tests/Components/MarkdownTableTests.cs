using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Tests.Components;

/// <summary>Expected outputs were produced by pandas 1.5.3 / tabulate 0.8.9 (<c>DataFrame(rows).to_markdown(index=False)</c>).</summary>
public class MarkdownTableTests
{
    [Fact]
    public void Render_MixedColumns_MatchesPandas()
    {
        var frame = new DataFrame(
        [
            new Data(JsonValues.Parse("""{"a":1,"b":"x|y","c":2.5,"d":null,"e":true}""")),
            new Data(JsonValues.Parse("""{"a":22,"b":"long text here","c":null,"d":"z","e":false}""")),
        ]);

        // pandas leaves the pipe unescaped here (no cleaning); Langflow's safe_convert escapes it.
        Assert.Equal(
            """
            |   a | b              |     c | d   | e     |
            |----:|:---------------|------:|:----|:------|
            |   1 | x\|y           |   2.5 |     | True  |
            |  22 | long text here | nan   | z   | False |
            """.ReplaceLineEndings("\n"),
            MarkdownTable.Render(frame, clean: false));
    }

    [Fact]
    public void Render_Floats_UseGeneralFormatAndDecimalAlignment()
    {
        string[] numbers = ["1.0", "1234567.0", "0.000012"];
        var frame = new DataFrame([.. numbers.Select(number => new Data(JsonValues.Parse($$"""{"x":{{number}}}""")))]);

        Assert.Equal(
            """
            |           x |
            |------------:|
            | 1           |
            | 1.23457e+06 |
            | 1.2e-05     |
            """.ReplaceLineEndings("\n"),
            MarkdownTable.Render(frame, clean: false));
    }

    [Fact]
    public void Render_CleanedMessages_MatchesLangflowsToMessage()
    {
        var frame = new DataFrame(
        [
            new Data(JsonValues.Parse("""{"sender":"User","text":"My name is Ada."}""")),
            new Data(JsonValues.Parse("""{"sender":"Machine","text":"\n\nUser: My name is Ada.\nAI: "}""")),
        ]);

        Assert.Equal(
            """
            | sender   | text                               |
            |:---------|:-----------------------------------|
            | User     | My name is Ada.                    |
            | Machine  | <br/>User: My name is Ada.<br/>AI: |
            """.ReplaceLineEndings("\n"),
            MarkdownTable.Render(frame, clean: true));
    }

    [Fact]
    public void Render_EmptyTable_IsEmptyText() => Assert.Equal("", MarkdownTable.Render(DataFrame.Empty, clean: true));
}
