using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Components;
using AgentMarket.Flows.Models;
using AgentMarket.Flows.Net;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Values;
using Microsoft.Extensions.AI;

namespace AgentMarket.Flows.Execution;

/// <summary>
/// One execution of one node: what a component reads and writes. Inputs resolve, in order: a tool argument, a live
/// edge value, the request input, the session id, a tweak, a secret, the configured value. Everything read comes
/// from the shared plan plus this run's overlay; nothing is looked up by field name except dynamic fields.
/// </summary>
internal sealed class NodeExecution
{
    readonly RunState _run;
    readonly PlanNode _node;
    readonly IReadOnlyDictionary<string, object?>? _toolArguments;
    readonly OutputSpec? _toolOutput;
    readonly object?[]? _toolSlots;
    long _inputTokens;
    long _outputTokens;
    int _modelCalls;
    string? _model;
    int _usageSource;

    public NodeExecution(RunState run, PlanNode node, IReadOnlyDictionary<string, object?>? toolArguments = null, OutputSpec? toolOutput = null)
    {
        _run = run;
        _node = node;
        _toolArguments = toolArguments;
        _toolOutput = toolOutput;
        _toolSlots = toolOutput is null ? null : new object?[node.Spec.Outputs.Length];
        StartedAt = run.Services.Time.GetUtcNow();
        StartTimestamp = run.Services.Time.GetTimestamp();
    }

    public RunState Run => _run;

    public PlanNode Node => _node;

    public string NodeId => _node.Id;

    public string DisplayName => _node.DisplayName ?? _node.Id;

    public CancellationToken Cancellation => _run.Token;

    public FlowServices Services => _run.Services;

    public string SessionId => _run.SessionId;

    public string RunId => _run.RunId;

    public bool AsTool => _toolOutput is not null;

    public DateTimeOffset StartedAt { get; }

    public long StartTimestamp { get; }

    public DateTimeOffset Now => _run.Services.Time.GetUtcNow();

    /// <summary>Events are written (a streaming run): components may skip building them otherwise.</summary>
    public bool Streaming => _run.Events.Enabled;

    public T? Prepared<T>()
        where T : class => _node.Prepared as T;

    public object? Value(InputSpec input) => Resolve(input.Ordinal, withToolArguments: true);

    /// <summary>
    /// The value the flow gives <paramref name="input"/> without the model's tool arguments: where the provider meant
    /// a tool to send the node's credentials, as opposed to where the model asks it to go.
    /// </summary>
    public object? ConfiguredValue(InputSpec input) => Resolve(input.Ordinal, withToolArguments: false);

    public object? Value(string field) => _node.BindingIndexByName.TryGetValue(field, out var index) ? Resolve(index, withToolArguments: true) : null;

    public bool HasField(string field) => _node.BindingIndexByName.ContainsKey(field);

    public string Text(InputSpec input) => TextConversion.AsText(Value(input));

    /// <summary><see cref="Text"/> of the <see cref="ConfiguredValue"/>.</summary>
    public string ConfiguredText(InputSpec input) => TextConversion.AsText(ConfiguredValue(input));

    public bool Bool(InputSpec input) => Value(input) switch
    {
        null => PythonText.Truthy(input.Default),
        var value => PythonText.Truthy(value),
    };

    public long Int(InputSpec input) => AsNumber(Value(input)) is { } number ? (long)Math.Truncate(number) : AsNumber(input.Default) is { } fallback ? (long)fallback : 0;

    public double Float(InputSpec input) => AsNumber(Value(input)) ?? AsNumber(input.Default) ?? 0;

    public double? OptionalFloat(InputSpec input) => AsNumber(Value(input));

    public JsonElement? Json(InputSpec input) => Value(input) switch
    {
        JsonElement element => element,
        _ => input.Default as JsonElement?,
    };

    /// <summary>A list field's values: one per live edge, or the configured list.</summary>
    public IReadOnlyList<object?> List(InputSpec input) => AsList(Value(input));

    /// <summary><see cref="List"/> of the <see cref="ConfiguredValue"/>.</summary>
    public IReadOnlyList<object?> ConfiguredList(InputSpec input) => AsList(ConfiguredValue(input));

    static IReadOnlyList<object?> AsList(object? value) => value switch
    {
        null => [],
        IReadOnlyList<object?> items => items,
        JsonElement { ValueKind: JsonValueKind.Array } array => [.. array.EnumerateArray().Select(item => (object?)item)],
        var single => [single],
    };

    public bool IsConnected(InputSpec input) => !_node.Bindings[input.Ordinal].Edges.IsEmpty;

    /// <summary>True when the run supplies this input (edge, tool argument, request input, tweak) instead of the compiled constant.</summary>
    public bool HasRuntimeValue(InputSpec input)
    {
        var binding = _node.Bindings[input.Ordinal];
        return _toolArguments?.ContainsKey(binding.Name) == true ||
               LiveEdge(binding) is not null ||
               (binding.TakesRunInput && _run.InputTargets[_node.Index]) ||
               _run.Tweaks.TryGet(_node.Index, input.Ordinal, out _);
    }

    /// <summary>The node whose live edge feeds <paramref name="input"/>, if any.</summary>
    public PlanNode? SourceOf(InputSpec input) =>
        LiveEdge(_node.Bindings[input.Ordinal]) is { } edge ? _run.Plan.Nodes[edge.NodeIndex] : null;

    public bool IsRequested(OutputSpec output) => _toolOutput is not null ? ReferenceEquals(output, _toolOutput) : _node.Requested[output.Ordinal];

    public void Set(OutputSpec output, object? value)
    {
        if (_toolSlots is not null)
        {
            _toolSlots[output.Ordinal] = value;
            return;
        }

        var slot = _node.Slot(output);
        _run.Slots[slot] = value;
        _run.SlotStates[slot] = SlotState.Set;
    }

    public object? ToolResult => _toolOutput is null ? null : _toolSlots![_toolOutput.Ordinal];

    public Message NewMessage(string text) => new()
    {
        Text = text,
        Timestamp = Now,
        FlowId = _run.FlowId,
    };

    /// <summary>
    /// The metered client for a model node; fails with <c>model_not_configured</c> when the host has none, or with the
    /// host's code when it refuses the node's choice (<see cref="ModelRefusedException"/>), as any component failure.
    /// </summary>
    public IChatClient ChatClient(ModelSettings settings)
    {
        var selection = new ModelSelection(_node.Id, settings.Provider, settings.Model, settings.ApiKey, settings.BaseUrl);
        IChatClient? client;
        try
        {
            client = _run.Services.Models.Resolve(selection);
        }
        catch (ModelRefusedException refused)
        {
            throw new FlowComponentException(refused.Code, refused.Message, refused);
        }
        return new MeteredChatClient(client ?? throw new FlowComponentException(
            RunErrorCodes.ModelNotConfigured,
            "No language model is configured for this run. Configure a default model (Llm:BaseUrl, Llm:ApiKey, Llm:Model) or the agent's model."), this);
    }

    /// <summary>Saves a message to session memory; emits <c>add_message</c> when streaming and <paramref name="announce"/>.</summary>
    public async ValueTask<Message> StoreMessageAsync(Message message, bool announce)
    {
        var stored = await _run.Services.Messages.SaveAsync(message, _run.RunId, Cancellation);
        if (announce)
        {
            await EmitAsync(new MessageAdded(stored));
        }

        return stored;
    }

    public ValueTask EmitAsync(RunEvent runEvent) => _run.Events.Enabled ? _run.Events.WriteAsync(runEvent, Cancellation) : ValueTask.CompletedTask;

    /// <summary>Counts the bytes of a returned message against the output limit.</summary>
    public void ChargeOutput(string key, string text) => _run.ChargeOutputBytes(key, Encoding.UTF8.GetByteCount(text));

    /// <summary>An HTTP request through the outbound guard, counted against the run's outbound limit.</summary>
    public async Task<OutboundResponse> SendAsync(HttpRequestMessage request, bool followRedirects, TimeSpan? timeout)
    {
        try
        {
            return await _run.Services.Outbound.SendAsync(
                request,
                new OutboundRequestOptions { FollowRedirects = followRedirects, Timeout = timeout, BeforeEachRequest = _run.ChargeOutboundRequest },
                Cancellation);
        }
        catch (OutboundBlockedException exception)
        {
            throw new FlowComponentException(RunErrorCodes.OutboundBlocked, exception.Message, exception);
        }
        catch (OutboundRequestException exception)
        {
            throw new FlowComponentException(RunErrorCodes.OutboundFailed, exception.Message, exception);
        }
    }

    public void AddUsage(long inputTokens, long outputTokens, string? model, UsageSource source)
    {
        Interlocked.Add(ref _inputTokens, inputTokens);
        Interlocked.Add(ref _outputTokens, outputTokens);
        // Calls of one node (an agent's turns, tools) may run at once: keep the least direct without losing one.
        int seen;
        do
        {
            seen = Volatile.Read(ref _usageSource);
        }
        while ((int)source > seen && Interlocked.CompareExchange(ref _usageSource, (int)source, seen) != seen);
        if (model is not null)
        {
            _model = model;
        }
    }

    public void CountModelCall(string? requestedModel)
    {
        _run.ChargeModelCall();
        Interlocked.Increment(ref _modelCalls);
        _model ??= requestedModel;
    }

    public NodeRun Finish(NodeRunStatus status, string? errorCode = null, string? error = null) => new(
        _node.Id,
        _node.DisplayName,
        _node.Definition.Type,
        status,
        StartedAt,
        _run.Services.Time.GetElapsedTime(StartTimestamp),
        errorCode,
        error,
        Interlocked.Read(ref _inputTokens),
        Interlocked.Read(ref _outputTokens),
        _model,
        _modelCalls,
        AsTool,
        (UsageSource)Volatile.Read(ref _usageSource));

    object? Resolve(int index, bool withToolArguments)
    {
        var binding = _node.Bindings[index];
        if (withToolArguments && _toolArguments is not null && _toolArguments.TryGetValue(binding.Name, out var argument))
        {
            return argument;
        }

        if (!binding.Edges.IsEmpty)
        {
            if (binding.IsList)
            {
                List<object?>? values = null;
                foreach (var edge in binding.Edges)
                {
                    if (_run.SlotStates[edge.Slot] == SlotState.Set)
                    {
                        (values ??= []).Add(_run.Slots[edge.Slot]);
                    }
                }

                if (values is not null)
                {
                    return values;
                }
            }
            else if (LiveEdge(binding) is { } edge)
            {
                return _run.Slots[edge.Slot];
            }
        }

        if (binding.TakesRunInput && _run.InputTargets[_node.Index])
        {
            return _run.Request.InputValue;
        }

        if (binding.TakesSession)
        {
            return _run.SessionId;
        }

        if (_run.Tweaks.TryGet(_node.Index, index, out var tweak))
        {
            return tweak.SecretName is { } tweakedSecret ? _run.Secrets.GetValueOrDefault(tweakedSecret) : tweak.Value;
        }

        if (binding.SecretName is { } secret)
        {
            return _run.Secrets.GetValueOrDefault(secret);
        }

        return binding.Constant;
    }

    EdgeSource? LiveEdge(InputBinding binding)
    {
        foreach (var edge in binding.Edges)
        {
            if (edge.Slot >= 0 && _run.SlotStates[edge.Slot] == SlotState.Set)
            {
                return edge;
            }
        }

        return null;
    }

    static double? AsNumber(object? value) => value switch
    {
        long number => number,
        int number => number,
        double number => number,
        string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        Message message when double.TryParse(message.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        JsonElement { ValueKind: JsonValueKind.Number } element when element.TryGetDouble(out var parsed) => parsed,
        JsonElement { ValueKind: JsonValueKind.String } element when double.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };
}
