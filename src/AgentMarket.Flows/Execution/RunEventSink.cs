using System.Threading.Channels;

namespace AgentMarket.Flows.Execution;

/// <summary>Where a run's events go. <see cref="Enabled"/> false lets components skip building events at all.</summary>
internal interface IRunEventSink
{
    bool Enabled { get; }

    ValueTask WriteAsync(RunEvent runEvent, CancellationToken cancellationToken);
}

/// <summary>The sink of non-streaming runs.</summary>
internal sealed class NullEventSink : IRunEventSink
{
    public static readonly NullEventSink Instance = new();

    public bool Enabled => false;

    public ValueTask WriteAsync(RunEvent runEvent, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>
/// A bounded channel: a slow client slows the model stream instead of growing memory (unlike an unbounded buffer).
/// </summary>
internal sealed class ChannelEventSink(ChannelWriter<RunEvent> writer) : IRunEventSink
{
    public const int Capacity = 256;

    public bool Enabled => true;

    public ValueTask WriteAsync(RunEvent runEvent, CancellationToken cancellationToken) => writer.WriteAsync(runEvent, cancellationToken);
}
