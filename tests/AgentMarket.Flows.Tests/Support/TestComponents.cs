using AgentMarket.Flows.Components;
using AgentMarket.Flows.Execution;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentMarket.Flows.Tests.Support;

/// <summary>Synthetic components for scheduler tests, registered beside the built-in ones.</summary>
internal static class TestComponents
{
    public static FlowEngine Engine { get; } = new(
        new ComponentRegistry([.. BuiltInComponents.Registry.Components, new DelayComponent(), new FailComponent()]),
        NullLogger.Instance);

    /// <summary>Waits <c>milliseconds</c> (observing cancellation), then passes its input on, prefixed by its display name.</summary>
    internal sealed class DelayComponent : Component
    {
        static readonly InputSpec InputValue = new("input_value", InputKind.Text, "");
        static readonly InputSpec Milliseconds = new("milliseconds", InputKind.Int, 0L);
        static readonly OutputSpec Message = new("message", "Message");

        public override ComponentSpec Spec { get; } = new("Delay", ["Delay"], [], [InputValue, Milliseconds], [Message]);

        public override async ValueTask ExecuteAsync(NodeExecution node)
        {
            var milliseconds = node.Int(Milliseconds);
            if (milliseconds > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(milliseconds), node.Cancellation);
            }

            node.Set(Message, node.NewMessage($"{node.DisplayName}({node.Text(InputValue)})"));
        }
    }

    /// <summary>Fails after <c>milliseconds</c>.</summary>
    internal sealed class FailComponent : Component
    {
        static readonly InputSpec InputValue = new("input_value", InputKind.Text, "");
        static readonly InputSpec Milliseconds = new("milliseconds", InputKind.Int, 0L);
        static readonly OutputSpec Message = new("message", "Message");

        public override ComponentSpec Spec { get; } = new("Fail", ["Fail"], [], [InputValue, Milliseconds], [Message]);

        public override async ValueTask ExecuteAsync(NodeExecution node)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(node.Int(Milliseconds)), node.Cancellation);
            throw new FlowComponentException("test_failure", "The test component failed on purpose.");
        }
    }
}
