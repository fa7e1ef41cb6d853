using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Tests.Components;

/// <summary>Python str.format and mustache templates as Langflow's prompts, parsers and memory use them.</summary>
public class TemplateTests
{
    static string Format(string template, params (string Name, object? Value)[] values) =>
        PythonFormat.Format(template, (string name, out bool found) =>
        {
            var match = values.FirstOrDefault(value => value.Name == name);
            found = match.Name is not null;
            return match.Value;
        });

    [Theory]
    [InlineData("Hello {name}!", "Hello Ada!")]
    [InlineData("{{literal}} and {name}", "{literal} and Ada")]
    [InlineData("{name!r}", "'Ada'")]
    [InlineData("{count:5d}|{count:<5}|", "   42|42   |")]
    [InlineData("{price:.2f} {price:,.1f} {ratio:%}", "1234.50 1,234.5 25.000000%")]
    [InlineData("{flag} {nothing} {items}", "True None ['a', 1]")]
    public void PythonFormat_RendersLikePython(string template, string expected)
    {
        var items = JsonDocument.Parse("""["a", 1]""").RootElement;

        Assert.Equal(expected, Format(template, ("name", "Ada"), ("count", 42L), ("price", 1234.5), ("ratio", 0.25), ("flag", true), ("nothing", null), ("items", items)));
    }

    [Theory]
    [InlineData("{missing}", "The template refers to {missing}, which has no value.")]
    [InlineData("{}", "The template uses a positional field such as {} or {0}; name the variable, e.g. {question}.")]
    [InlineData("{a.b}", "The template field {a.b} uses attribute or index access, which is not supported; use a plain variable name.")]
    [InlineData("oops }", "The template has a single '}'; write '}}' for a literal brace.")]
    [InlineData("{open", "The template has a '{' without a closing '}'.")]
    public void PythonFormat_ErrorsAreActionable(string template, string message)
    {
        var failure = Assert.Throws<FlowComponentException>(() => Format(template, ("a", "x")));

        Assert.Equal(("template_error", message), (failure.Code, failure.Message));
    }

    [Fact]
    public void Variables_AreExtractedInFirstUseOrder_IgnoringEscapedBraces() =>
        Assert.Equal(["context", "question"], PythonFormat.Variables("{context} {{not}} {question} {context}"));

    [Fact]
    public void Mustache_SubstitutesOnce_MissingIsEmpty_SingleBracesAreLiteral()
    {
        var text = MustacheFormat.Format("{{a}} {b} {{missing}} {{ a }}", (string name, out bool found) =>
        {
            found = name == "a";
            return found ? "{{a}}" : null;
        });

        Assert.Equal("{{a}} {b}  {{a}}", text);
        Assert.Throws<FlowComponentException>(() => MustacheFormat.Format("{{#section}}", (string _, out bool found) =>
        {
            found = false;
            return null;
        }));
    }

    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1e-05")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(123456789.125, "123456789.125")]
    public void FloatRepr_MatchesPython(double value, string expected) => Assert.Equal(expected, PythonText.FloatRepr(value));

    [Fact]
    public void DataShownInChat_IsFencedTwoSpaceJson_WithTextKeptReadable()
    {
        var data = new Data(JsonValues.Parse("""{"city":"Zürich","tags":["a"]}"""));

        Assert.Equal("```json\n{\n  \"city\": \"Zürich\",\n  \"tags\": [\n    \"a\"\n  ]\n}\n```", TextConversion.SafeConvert(data, cleanData: false));
    }
}
