using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;

namespace AgentMarket.Flows.Components;

/// <summary>
/// One Langflow component type, implemented natively. Instances are stateless singletons shared by every plan and
/// every concurrent run: compile-time work goes into <see cref="Prepare"/>'s result, run state lives in the
/// <see cref="NodeExecution"/>.
/// </summary>
internal abstract class Component
{
    public abstract ComponentSpec Spec { get; }

    /// <summary>
    /// Compile-time work for one node: parse what can be parsed once, report what a seller must fix, declare the
    /// capabilities a run needs. The result is stored in the plan and read back through <see cref="NodeExecution.Prepared{T}"/>.
    /// </summary>
    public virtual object? Prepare(NodeSetup node) => null;

    /// <summary>Computes the node's requested outputs. Throw <see cref="FlowComponentException"/> for an expected failure.</summary>
    public abstract ValueTask ExecuteAsync(NodeExecution node);
}
