using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Tests.Execution;

/// <summary>The examples that need no model, run to the outputs the examples' README describes.</summary>
public class NoModelExampleRunTests
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task SimpleChat_EchoesTheChatInput()
    {
        var result = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.SimpleChatNoLlm), new RunRequest { InputValue = "hello there" }, TestServices.Create(), Ct);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        var output = Assert.Single(result.Outputs);
        Assert.Equal("ChatOutput-9hGOk", output.NodeId);
        var message = Assert.IsType<Message>(Assert.Single(output.Values).Value);
        Assert.Equal("hello there", message.Text);
        Assert.Equal(MessageSenders.Machine, message.Sender);
        Assert.Equal("AI", message.SenderName);
        Assert.Equal("ChatInput-xDNlW", message.Properties.Source?.Id);
    }

    [Fact]
    public async Task SimpleChat_WithASession_StoresTheUserAndTheAnswer()
    {
        var messages = new InMemoryMessageStore();
        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.SimpleChatNoLlm),
            new RunRequest { InputValue = "hi", SessionId = "s-1" },
            TestServices.Create(messages: messages),
            Ct);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal("s-1", result.SessionId);
        Assert.Collection(
            messages.Snapshot(),
            user => Assert.Equal((MessageSenders.User, "User", "hi"), (user.Sender, user.SenderName, user.Text)),
            answer => Assert.Equal((MessageSenders.Machine, "AI", "hi"), (answer.Sender, answer.SenderName, answer.Text)));
    }

    [Fact]
    public async Task SimpleChat_WithoutSessionOrFlowId_StoresNothing()
    {
        var messages = new InMemoryMessageStore();
        await FlowEngine.Default.RunAsync(Examples.Plan(Examples.SimpleChatNoLlm), new RunRequest { InputValue = "hi" }, TestServices.Create(messages: messages), Ct);

        Assert.Empty(messages.Snapshot());
    }

    [Theory]
    [InlineData("chat", "hello", "hello", "AI")]
    [InlineData("text", "Bob", "", "Bob")]
    [InlineData("any", "Zed", "Zed", "Zed")]
    public async Task SimpleApiTest_InputTypeChoosesWhichInputsReceiveTheValue(string inputType, string input, string expectedText, string expectedSenderName)
    {
        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.SimpleApiTest),
            new RunRequest { InputValue = input, InputType = inputType },
            TestServices.Create(),
            Ct);

        var message = Assert.IsType<Message>(Assert.Single(Assert.Single(result.Outputs).Values).Value);
        Assert.Equal(expectedText, message.Text);
        Assert.Equal(expectedSenderName, message.SenderName);
    }

    [Fact]
    public async Task SimpleApiTest_TweakOnTheTextInput_SetsTheSenderName()
    {
        var tweaks = JsonDocument.Parse("""{"TextInput-eFiZp": {"input_value": "Robot"}}""").RootElement;
        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.SimpleApiTest),
            new RunRequest { InputValue = "hi", Tweaks = tweaks },
            TestServices.Create(),
            Ct);

        var message = Assert.IsType<Message>(Assert.Single(Assert.Single(result.Outputs).Values).Value);
        Assert.Equal(("hi", "Robot"), (message.Text, message.SenderName));
    }

    [Fact]
    public async Task MemoryChatbotNoLlm_AnswerGrowsWithTheSessionHistory()
    {
        var plan = Examples.Plan(Examples.MemoryChatbotNoLlm);
        var messages = new InMemoryMessageStore();
        var services = TestServices.Create(messages: messages);

        var first = await FlowEngine.Default.RunAsync(plan, new RunRequest { InputValue = "My name is Ada.", SessionId = "s" }, services, Ct);
        var (userTime, answerTime) = (Stamp(messages.Snapshot()[0]), Stamp(messages.Snapshot()[1]));
        var second = await FlowEngine.Default.RunAsync(plan, new RunRequest { InputValue = "What is my name?", SessionId = "s" }, services, Ct);

        Assert.Equal("\n\nUser: My name is Ada.\nAI: ", first.OutputText);
        Assert.Equal(
            $"""
            | timestamp               | sender   | sender_name   | session_id   | text                               |
            |:------------------------|:---------|:--------------|:-------------|:-----------------------------------|
            | {userTime} | User     | User          | s            | My name is Ada.                    |
            | {answerTime} | Machine  | AI            | s            | <br/>User: My name is Ada.<br/>AI: |

            User: What is my name?
            AI: 
            """.ReplaceLineEndings("\n"),
            second.OutputText);
    }

    static string Stamp(Message message) => message.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task MemoryChatbotNoLlm_SessionsDoNotShareHistory()
    {
        var plan = Examples.Plan(Examples.MemoryChatbotNoLlm);
        var services = TestServices.Create();

        await FlowEngine.Default.RunAsync(plan, new RunRequest { InputValue = "secret", SessionId = "a" }, services, Ct);
        var other = await FlowEngine.Default.RunAsync(plan, new RunRequest { InputValue = "hello", SessionId = "b" }, services, Ct);

        Assert.Equal("\n\nUser: hello\nAI: ", other.OutputText);
    }
}
