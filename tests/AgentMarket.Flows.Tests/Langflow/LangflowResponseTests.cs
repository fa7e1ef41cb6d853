using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Langflow;
using AgentMarket.Flows.Tests.Support;

namespace AgentMarket.Flows.Tests.Langflow;

/// <summary>The /api/v1/run response and request shapes of langflow-format.md §6.1.</summary>
public class LangflowResponseTests
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Build_PutsTheAnswerWhereEveryKnownClientReadsIt()
    {
        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.SimpleChatNoLlm),
            new RunRequest { InputValue = "line one\n\nline two", SessionId = "chat-123" },
            TestServices.Create(),
            Ct);

        var body = LangflowRunResponse.Build(result);

        Assert.Equal("chat-123", (string?)body["session_id"]);
        var run = body["outputs"]![0]!;
        Assert.Equal("line one\n\nline two", (string?)run["inputs"]!["input_value"]);
        var data = run["outputs"]![0]!;
        Assert.Equal("line one\n\nline two", (string?)data["results"]!["message"]!["text"]);
        Assert.Equal("line one\n\nline two", (string?)data["results"]!["message"]!["data"]!["text"]);
        Assert.Equal("line one\n\nline two", (string?)data["outputs"]!["message"]!["message"]);
        Assert.Equal("text", (string?)data["outputs"]!["message"]!["type"]);
        Assert.Equal("line one\n\nline two", (string?)data["artifacts"]!["message"]);
        Assert.Equal("object", (string?)data["artifacts"]!["type"]);

        // Only messages[].message normalises a Machine message to paragraphs.
        Assert.Equal("line one\n\nline two", (string?)data["messages"]![0]!["message"]);
        Assert.Equal("ChatOutput-9hGOk", (string?)data["messages"]![0]!["component_id"]);
        Assert.Equal("Chat Output", (string?)data["component_display_name"]);
        Assert.Equal("ChatOutput-9hGOk", (string?)data["component_id"]);
        Assert.False((bool)data["used_frozen_result"]!);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(data["logs"]!["message"]!.ToJsonString()).RootElement.ValueKind);
        Assert.Equal("2025-06-16T19:58:", ((string?)data["results"]!["message"]!["timestamp"])![..17]);
        Assert.EndsWith(" UTC", (string?)data["results"]!["message"]!["data"]!["timestamp"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_MachineMessagesArePlacedInParagraphs()
    {
        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.SimpleChatNoLlm),
            new RunRequest { InputValue = "a\nb\n\nc" },
            TestServices.Create(),
            Ct);

        var data = LangflowRunResponse.Build(result)["outputs"]![0]!["outputs"]![0]!;

        Assert.Equal("a\n\nb\n\nc", (string?)data["messages"]![0]!["message"]);
        Assert.Equal("a\nb\n\nc", (string?)data["results"]!["message"]!["text"]);
    }

    [Fact]
    public async Task Build_WithoutInputValue_HasEmptyInputs()
    {
        var result = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.SimpleChatNoLlm), new RunRequest(), TestServices.Create(), Ct);

        var body = LangflowRunResponse.Build(result);

        Assert.Equal("{}", body["outputs"]![0]!["inputs"]!.ToJsonString());
        Assert.Equal("", (string?)body["outputs"]![0]!["outputs"]![0]!["results"]!["message"]!["text"]);
    }

    [Fact]
    public void Error_CarriesTheMessageAsAJsonString()
    {
        var body = LangflowRunResponse.Error(new RunError(RunErrorCodes.ModelNotConfigured, "A model selection is required", "LanguageModelComponent-x", "Language Model"));

        var detail = JsonNode.Parse((string)body["detail"]!)!;
        Assert.Equal("Error running graph: Error building Component Language Model: \n\nA model selection is required", (string?)detail["message"]);
        Assert.Null(detail["traceback"]);
    }

    [Theory]
    [InlineData("""{"input_value":"hi","input_type":"text","output_type":"any","session_id":"s"}""", "hi", "text", "any", "s", false)]
    [InlineData("""{"input_request":{"input_value":"wrapped"},"context":{}}""", "wrapped", "chat", "chat", null, false)]
    [InlineData("""{"message":"ignored key"}""", null, "chat", "chat", null, false)]
    [InlineData("""{"input_value":123}""", null, "chat", "chat", null, true)]
    [InlineData("""{"input_value":"x","tweaks":[]}""", null, "chat", "chat", null, true)]
    [InlineData("""{}""", null, "chat", "chat", null, false)]
    public void ParseBody_FollowsLangflowsRules(string json, string? input, string inputType, string outputType, string? session, bool replaced)
    {
        var request = LangflowRunBody.Parse(JsonDocument.Parse(json).RootElement, out var replacedWithDefaults);

        Assert.Equal((input, inputType, outputType, session, replaced), (request.InputValue, request.InputType, request.OutputType, request.SessionId, replacedWithDefaults));
    }
}
