using AgentMarket.Flows.Execution;
using System.Collections.Frozen;
using System.Collections.Immutable;
using AgentMarket.Flows.Components;
using AgentMarket.Flows.Loading;
using AgentMarket.Flows.Validation;

namespace AgentMarket.Flows.Compilation;

/// <summary>
/// Analyses a loaded flow into a <see cref="CompatibilityReport"/> and, when nothing in it is an error, an immutable
/// <see cref="ExecutionPlan"/>. One pass serves both, so what validation accepts is exactly what runs.
/// </summary>
internal sealed class FlowCompiler(ComponentRegistry registry)
{
    public (CompatibilityReport Report, ExecutionPlan? Plan) Compile(LoadResult load, string? flowIdOverride = null)
    {
        if (load.Definition is not { } flow)
        {
            return (new CompatibilityReport { Runnable = false, Format = "unreadable", Issues = load.Issues }, null);
        }

        if (load.IsLegacy)
        {
            return (LegacyReport(flow, load.Issues), null);
        }

        var analysis = new Analysis(flow, registry, load.Issues);
        analysis.Run();
        var report = analysis.BuildReport();
        var plan = report.Runnable ? analysis.BuildPlan(report, flowIdOverride ?? flow.Id) : null;
        return (report, plan);
    }

    static CompatibilityReport LegacyReport(FlowDefinition flow, ImmutableArray<ReportIssue> loadIssues)
    {
        var types = string.Join(", ", flow.Nodes.Select(node => node.Type).Distinct(StringComparer.Ordinal));
        var issues = loadIssues.Add(ReportIssue.Error(
            IssueCodes.LegacyFormat,
            $"This flow was saved by a Langflow version before 1.0 (pipe-style edge handles, components {types}). " +
            "Those components no longer exist in Langflow 1.x and cannot run here. Rebuild the flow in Langflow 1.x and export it again."));
        return new CompatibilityReport
        {
            Runnable = false,
            Format = "legacy",
            FlowId = flow.Id,
            FlowName = flow.Name,
            LastTestedVersion = flow.LastTestedVersion,
            Issues = issues,
            Nodes = [.. flow.Nodes.Select(node => new NodeReport(
                node.Id, node.Type, node.DisplayName, null, NodeSupport.Unsupported, "A pre-1.0 component.", RunsViaApi: false))],
        };
    }

    /// <summary>The working state of one compilation.</summary>
    sealed class Analysis(FlowDefinition flow, ComponentRegistry registry, ImmutableArray<ReportIssue> loadIssues)
    {
        readonly ImmutableArray<NodeDefinition> _nodes = flow.Nodes;
        readonly List<ReportIssue> _issues = [.. loadIssues];
        readonly SortedSet<string> _capabilities = new(StringComparer.Ordinal);
        readonly List<ModelRequirement> _models = [];
        readonly List<ValidEdge> _edges = [];
        Component?[] _components = [];
        NodeSupport[] _support = [];
        string?[] _notes = [];
        NodeRole[] _roles = [];
        bool[] _active = [];
        int? _start;
        readonly Dictionary<int, (ImmutableArray<InputBinding> Bindings, object? Prepared)> _prepared = [];
        int[] _firstSlot = [];

        public void Run()
        {
            var count = _nodes.Length;
            _components = new Component?[count];
            _support = new NodeSupport[count];
            _notes = new string?[count];
            _roles = new NodeRole[count];
            var indexById = _nodes.Select((node, index) => (node.Id, index)).ToFrozenDictionary(pair => pair.Id, pair => pair.index, StringComparer.Ordinal);
            if (flow.IsComponent)
            {
                _issues.Add(ReportIssue.Error(IssueCodes.IsComponent, "This file is a saved single component, not a flow. Export the flow that uses it instead."));
            }

            for (var index = 0; index < count; index++)
            {
                ResolveComponent(index);
                _roles[index] = RoleOf(_nodes[index]);
            }

            ResolveEdges(indexById);
            FindStartNode();
            FindCycles();
            MarkActive();
            ReportNodes();
            PrepareNodes();
        }

        void ResolveComponent(int index)
        {
            var node = _nodes[index];
            if (node.IsGroup)
            {
                _support[index] = NodeSupport.Unsupported;
                _notes[index] = "A group node (a collapsed sub-flow). Ungroup it in Langflow and export the flow again.";
                return;
            }

            if (node.Edited || node.Type == "CustomComponent" || node.CodeClass == "CustomComponent")
            {
                _support[index] = NodeSupport.CustomCode;
                _notes[index] = "Custom or edited Python code. Python is never executed here; replace it with a standard Langflow component.";
                return;
            }

            var component = registry.Find(node);
            if (component is null)
            {
                _support[index] = NodeSupport.Unsupported;
                _notes[index] = $"The component type \"{node.Type}\" is not supported by this runtime.";
                return;
            }

            if (node.ToolMode && component.Spec.Tools.IsEmpty)
            {
                _support[index] = NodeSupport.Unsupported;
                _notes[index] = $"{component.Spec.Name} cannot be used as a tool here (tool mode is on).";
                return;
            }

            _components[index] = component;
            _support[index] = NodeSupport.Supported;
        }

        static NodeRole RoleOf(NodeDefinition node)
        {
            var role = RoleNamed(node.Type);
            return role != NodeRole.None ? role : RoleNamed(node.IdPrefix);
        }

        static NodeRole RoleNamed(string name) => name switch
        {
            "ChatInput" => NodeRole.ChatInput,
            "TextInput" => NodeRole.TextInput,
            "Webhook" => NodeRole.Webhook,
            "ChatOutput" => NodeRole.ChatOutput,
            "TextOutput" => NodeRole.TextOutput,
            "DataOutput" => NodeRole.DataOutput,
            _ => NodeRole.None,
        };

        void ResolveEdges(FrozenDictionary<string, int> indexById)
        {
            foreach (var edge in flow.Edges)
            {
                var label = $"from \"{edge.Source}\" to \"{edge.Target}\"";
                if (edge.Format == HandleFormat.Missing)
                {
                    _issues.Add(ReportIssue.Error(IssueCodes.InvalidEdge, $"The edge {label} has no readable handles (neither data.sourceHandle nor an encoded handle string).", edge.Target));
                    continue;
                }

                if (!indexById.TryGetValue(edge.Source, out var source))
                {
                    _issues.Add(ReportIssue.Error(IssueCodes.DanglingEdge, $"The edge {label} starts at a node that is not in the flow.", edge.Target));
                    continue;
                }

                if (!indexById.TryGetValue(edge.Target, out var target))
                {
                    _issues.Add(ReportIssue.Error(IssueCodes.DanglingEdge, $"The edge {label} ends at a node that is not in the flow.", edge.Source));
                    continue;
                }

                if (edge.LoopBackOutput is not null)
                {
                    // A loop-back edge feeds a Loop node's output; loops are reported through the Loop node itself.
                    continue;
                }

                var sourceNode = _nodes[source];
                var targetNode = _nodes[target];
                var output = sourceNode.Outputs.FirstOrDefault(candidate => candidate.Name == edge.SourceOutput);
                if (output is null)
                {
                    _issues.Add(ReportIssue.Error(IssueCodes.DanglingEdge, $"The edge {label} reads output \"{edge.SourceOutput}\", which \"{edge.Source}\" does not have.", edge.Source));
                    continue;
                }

                var field = edge.TargetField is null ? null : targetNode.Field(edge.TargetField);
                if (field is null)
                {
                    _issues.Add(ReportIssue.Error(IssueCodes.DanglingEdge, $"The edge {label} feeds field \"{edge.TargetField}\", which \"{edge.Target}\" does not have.", edge.Target, edge.TargetField));
                    continue;
                }

                var produced = output.Types.IsEmpty ? edge.SourceTypes : output.Types;
                var accepted = field.InputTypes.IsEmpty ? edge.TargetInputTypes : field.InputTypes;
                if (accepted.IsEmpty)
                {
                    _issues.Add(ReportIssue.Error(IssueCodes.TypeMismatch, $"The edge {label} feeds field \"{field.Name}\", which does not accept connections.", edge.Target, field.Name));
                    continue;
                }

                if (!produced.Any(type => accepted.Contains(type) || type == field.Type || (type == "Message" && accepted.Contains("Text"))))
                {
                    _issues.Add(ReportIssue.Error(
                        IssueCodes.TypeMismatch,
                        $"The edge {label} joins output \"{output.Name}\" ({string.Join(", ", produced)}) to field \"{field.Name}\", which accepts {string.Join(", ", accepted)}.",
                        edge.Target,
                        field.Name));
                    continue;
                }

                _edges.Add(new ValidEdge(source, output.Name, target, field.Name));
            }
        }

        void FindStartNode()
        {
            var chatInputs = Enumerable.Range(0, _nodes.Length).Where(index => _roles[index] == NodeRole.ChatInput).ToList();
            if (chatInputs.Count > 1)
            {
                _issues.Add(ReportIssue.Error(
                    IssueCodes.MultipleChatInputs,
                    $"The flow has {chatInputs.Count} Chat Inputs ({string.Join(", ", chatInputs.Select(index => _nodes[index].Id))}); only one is allowed."));
            }

            var inputs = Enumerable.Range(0, _nodes.Length).Where(index => (_roles[index] & NodeRole.Input) != 0).ToList();
            _start = inputs.Cast<int?>().FirstOrDefault(index => _nodes[index!.Value].Id.Contains("webhook", StringComparison.OrdinalIgnoreCase))
                ?? inputs.Cast<int?>().FirstOrDefault(index => _nodes[index!.Value].Id.Contains("chat", StringComparison.OrdinalIgnoreCase));
            if (inputs.Count == 0)
            {
                _issues.Add(ReportIssue.Warning(IssueCodes.NoInput, "The flow has no Chat Input, Text Input or Webhook: a run's input_value reaches no node and every node runs with its configured values."));
            }
        }

        void FindCycles()
        {
            // Tarjan's strongly connected components; any component with more than one node (or a self-edge) is a cycle.
            var count = _nodes.Length;
            var successors = Successors();
            var index = new int[count];
            var low = new int[count];
            var onStack = new bool[count];
            Array.Fill(index, -1);
            var stack = new Stack<int>();
            var counter = 0;
            for (var root = 0; root < count; root++)
            {
                if (index[root] >= 0)
                {
                    continue;
                }

                // Iterative DFS: exports are untrusted, so recursion depth must not follow the input's size.
                var work = new Stack<(int Node, int Next)>();
                work.Push((root, 0));
                index[root] = low[root] = counter++;
                stack.Push(root);
                onStack[root] = true;
                while (work.Count > 0)
                {
                    var (node, next) = work.Pop();
                    if (next < successors[node].Count)
                    {
                        work.Push((node, next + 1));
                        var successor = successors[node][next];
                        if (index[successor] < 0)
                        {
                            index[successor] = low[successor] = counter++;
                            stack.Push(successor);
                            onStack[successor] = true;
                            work.Push((successor, 0));
                        }
                        else if (onStack[successor])
                        {
                            low[node] = Math.Min(low[node], index[successor]);
                        }

                        continue;
                    }

                    if (work.Count > 0)
                    {
                        var parent = work.Peek().Node;
                        low[parent] = Math.Min(low[parent], low[node]);
                    }

                    if (low[node] != index[node])
                    {
                        continue;
                    }

                    var members = new List<int>();
                    int member;
                    do
                    {
                        member = stack.Pop();
                        onStack[member] = false;
                        members.Add(member);
                    }
                    while (member != node);

                    if (members.Count > 1 || successors[node].Contains(node))
                    {
                        members.Sort();
                        var names = string.Join(" → ", members.Select(candidate => _nodes[candidate].Id));
                        _issues.Add(ReportIssue.Error(IssueCodes.Cycle, $"These nodes form a cycle: {names}. Langflow allows cycles only through a Loop component, which is not supported here.", _nodes[members[0]].Id));
                    }
                }
            }
        }

        List<int>[] Successors()
        {
            var successors = Enumerable.Range(0, _nodes.Length).Select(_ => new List<int>()).ToArray();
            foreach (var edge in _edges)
            {
                if (!successors[edge.Source].Contains(edge.Target))
                {
                    successors[edge.Source].Add(edge.Target);
                }
            }

            return successors;
        }

        /// <summary>With a start node only its part of the graph runs: what it reaches, plus what feeds those (format §3.4).</summary>
        void MarkActive()
        {
            _active = new bool[_nodes.Length];
            if (_start is not { } start)
            {
                Array.Fill(_active, true);
                return;
            }

            var reached = new bool[_nodes.Length];
            var queue = new Queue<int>([start]);
            reached[start] = true;
            while (queue.TryDequeue(out var node))
            {
                foreach (var edge in _edges)
                {
                    if (edge.Source == node && !reached[edge.Target])
                    {
                        reached[edge.Target] = true;
                        queue.Enqueue(edge.Target);
                    }
                }
            }

            for (var node = 0; node < _nodes.Length; node++)
            {
                if (reached[node])
                {
                    _active[node] = true;
                    queue.Enqueue(node);
                }
            }

            while (queue.TryDequeue(out var node))
            {
                foreach (var edge in _edges)
                {
                    if (edge.Target == node && !_active[edge.Source])
                    {
                        _active[edge.Source] = true;
                        queue.Enqueue(edge.Source);
                    }
                }
            }
        }

        void ReportNodes()
        {
            var inactive = new List<string>();
            for (var index = 0; index < _nodes.Length; index++)
            {
                var node = _nodes[index];
                switch (_support[index])
                {
                    case NodeSupport.CustomCode:
                        _issues.Add(ReportIssue.Error(IssueCodes.CustomCode, $"\"{node.Id}\" ({node.DisplayName ?? node.Type}) contains custom or edited Python code, which is never executed here.", node.Id));
                        break;
                    case NodeSupport.Unsupported when node.IsGroup:
                        _issues.Add(Severity(index, IssueCodes.GroupNode, $"\"{node.Id}\" is a group node; ungroup it in Langflow and export again.", node.Id));
                        break;
                    case NodeSupport.Unsupported:
                        _issues.Add(Severity(index, IssueCodes.UnsupportedComponent, $"\"{node.Id}\": {_notes[index]}", node.Id));
                        break;
                }

                if (!_active[index])
                {
                    inactive.Add(node.Id);
                }
                else if (node.Frozen && _support[index] == NodeSupport.Supported)
                {
                    _issues.Add(ReportIssue.Warning(IssueCodes.FrozenIgnored, $"\"{node.Id}\" is frozen in Langflow; here it runs on every request (results are never shared between runs).", node.Id));
                }
            }

            if (inactive.Count > 0 && _start is { } start)
            {
                _issues.Add(ReportIssue.Info(
                    IssueCodes.NotRunViaApi,
                    $"Runs start at \"{_nodes[start].Id}\", so these nodes, which are not connected to it, never run through the API: {string.Join(", ", inactive)}."));
            }

            if (!Enumerable.Range(0, _nodes.Length).Any(index => _active[index] && (_roles[index] & NodeRole.Output) != 0))
            {
                _issues.Add(ReportIssue.Warning(IssueCodes.NoOutput, "The flow has no Chat Output or Text Output that runs: a run returns no answer."));
            }
        }

        ReportIssue Severity(int index, string code, string message, string nodeId) => _active[index]
            ? ReportIssue.Error(code, message, nodeId)
            : ReportIssue.Warning(code, message + " It never runs through the API, so the flow still runs.", nodeId);

        void PrepareNodes()
        {
            _firstSlot = new int[_nodes.Length];
            var nextSlot = 0;
            for (var index = 0; index < _nodes.Length; index++)
            {
                _firstSlot[index] = nextSlot;
                nextSlot += _components[index]?.Spec.Outputs.Length ?? 0;
            }

            SlotCount = nextSlot;
            if (_nodes.Any(node => node.Fields.Any(field => field.Name == "session_id")) && _start is not null)
            {
                _capabilities.Add(Capabilities.SessionMemory);
            }

            for (var index = 0; index < _nodes.Length; index++)
            {
                if (_components[index] is not { } component || !_active[index])
                {
                    continue;
                }

                CheckEdgesAgainstSpec(index, component.Spec);
                var bindings = Bind(index, component.Spec);
                var setup = new NodeSetup(_nodes[index], bindings, _active[index], _issues, _capabilities, _models);
                CheckRequiredInputs(index, component.Spec, bindings);
                object? prepared = null;
                try
                {
                    prepared = component.Prepare(setup);
                }
                catch (FlowComponentException exception)
                {
                    _issues.Add(ReportIssue.Error(exception.Code, $"\"{_nodes[index].Id}\": {exception.Message}", _nodes[index].Id));
                }

                _prepared[index] = (bindings, prepared);
            }
        }

        public int SlotCount { get; private set; }

        void CheckEdgesAgainstSpec(int index, ComponentSpec spec)
        {
            foreach (var edge in _edges)
            {
                if (edge.Source == index && spec.Output(edge.Output) is null)
                {
                    _issues.Add(ReportIssue.Error(
                        IssueCodes.UnsupportedOutput,
                        $"\"{_nodes[index].Id}\" ({spec.Name}): output \"{edge.Output}\" is not supported by this runtime.",
                        _nodes[index].Id));
                }

                if (edge.Target == index && !spec.DynamicInputs && spec.Input(edge.Field) is null)
                {
                    _issues.Add(ReportIssue.Warning(
                        IssueCodes.UnusedField,
                        $"\"{_nodes[index].Id}\" ({spec.Name}): field \"{edge.Field}\" is connected but this runtime's implementation does not read it.",
                        _nodes[index].Id,
                        edge.Field));
                }
            }
        }

        ImmutableArray<InputBinding> Bind(int index, ComponentSpec spec)
        {
            var node = _nodes[index];
            var role = _roles[index];
            var sessionAware = node.Field("session_id") is not null;
            var bindings = ImmutableArray.CreateBuilder<InputBinding>();
            foreach (var input in spec.Inputs)
            {
                bindings.Add(Binding(index, input.Name, input, node.Field(input.Name), role, sessionAware));
            }

            if (spec.DynamicInputs)
            {
                foreach (var field in node.Fields)
                {
                    if (spec.Input(field.Name) is null)
                    {
                        bindings.Add(Binding(index, field.Name, null, field, role, sessionAware));
                    }
                }
            }

            return bindings.ToImmutable();
        }

        InputBinding Binding(int index, string name, InputSpec? input, FieldDefinition? field, NodeRole role, bool sessionAware)
        {
            var edges = _edges
                .Where(edge => edge.Target == index && edge.Field == name)
                .Select(edge => new EdgeSource(edge.Source, SlotOf(edge.Source, edge.Output), edge.Output))
                .ToImmutableArray();
            var kind = input?.Kind ?? InputKind.Text;
            var usable = field is not null && field.Show;
            var secret = usable && field!.LoadFromDb && field.Value.ValueKind == System.Text.Json.JsonValueKind.String &&
                         !string.IsNullOrWhiteSpace(field.Value.GetString())
                ? field.Value.GetString()
                : null;
            var constant = usable && secret is null ? FieldValues.Convert(field!.Type, field.Value, field.FilePath) : null;
            return new InputBinding
            {
                Name = name,
                Spec = input,
                Field = field,
                FieldType = field?.Type ?? DefaultFieldType(kind),
                Kind = kind,
                Edges = edges,
                IsList = field?.IsList ?? false,
                Constant = constant ?? input?.Default,
                SecretName = secret,
                TakesRunInput = (role & NodeRole.Input) != 0 && name == "input_value",
                TakesSession = sessionAware && name == "session_id",
            };
        }

        static string DefaultFieldType(InputKind kind) => kind switch
        {
            InputKind.Bool => "bool",
            InputKind.Int => "int",
            InputKind.Float => "float",
            InputKind.Json => "dict",
            InputKind.Files => "file",
            InputKind.Handle => "other",
            _ => "str",
        };

        int SlotOf(int node, string output) =>
            _components[node]?.Spec.Output(output) is { } spec ? _firstSlot[node] + spec.Ordinal : -1;

        void CheckRequiredInputs(int index, ComponentSpec spec, ImmutableArray<InputBinding> bindings)
        {
            foreach (var binding in bindings)
            {
                if (binding.Field is not { Required: true, Show: true } field || !binding.Edges.IsEmpty || binding.TakesRunInput ||
                    binding.SecretName is not null || field.Type == "model" || binding.Spec is null || !field.IsEmpty)
                {
                    continue;
                }

                _issues.Add(ReportIssue.Error(
                    IssueCodes.MissingRequiredInput,
                    $"\"{_nodes[index].Id}\" ({spec.Name}): the required field \"{field.Name}\" has no value and no connection.",
                    _nodes[index].Id,
                    field.Name));
            }
        }

        public CompatibilityReport BuildReport()
        {
            var secrets = _prepared.Values
                .SelectMany(entry => entry.Bindings)
                .Where(binding => binding.SecretName is not null && binding.Spec is not null)
                .Select(binding => binding.SecretName!)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToImmutableArray();
            var issues = _issues
                .Select((issue, order) => (issue, order))
                .OrderBy(pair => pair.issue.Severity)
                .ThenBy(pair => pair.order)
                .Select(pair => pair.issue)
                .ToImmutableArray();
            return new CompatibilityReport
            {
                Runnable = issues.All(issue => issue.Severity != IssueSeverity.Error),
                Format = "langflow",
                FlowId = flow.Id,
                FlowName = flow.Name,
                LastTestedVersion = flow.LastTestedVersion,
                StartNodeId = _start is { } start ? _nodes[start].Id : null,
                Nodes = [.. _nodes.Select((node, index) => new NodeReport(
                    node.Id, node.Type, node.DisplayName, _components[index]?.Spec.Name, _support[index], _notes[index], _active[index]))],
                Issues = issues,
                RequiredSecrets = secrets,
                RequiredCapabilities = [.. _capabilities],
                Models = [.. _models],
            };
        }

        public ExecutionPlan BuildPlan(CompatibilityReport report, string? flowId)
        {
            var active = Enumerable.Range(0, _nodes.Length).Where(index => _active[index]).ToArray();
            var planIndex = new Dictionary<int, int>();
            for (var position = 0; position < active.Length; position++)
            {
                planIndex[active[position]] = position;
            }

            var slotRemap = new Dictionary<int, int>();
            var nextSlot = 0;
            foreach (var index in active)
            {
                var outputs = _components[index]!.Spec.Outputs.Length;
                for (var output = 0; output < outputs; output++)
                {
                    slotRemap[_firstSlot[index] + output] = nextSlot + output;
                }

                nextSlot += outputs;
            }

            var nodes = ImmutableArray.CreateBuilder<PlanNode>(active.Length);
            foreach (var index in active)
            {
                var node = _nodes[index];
                var component = _components[index]!;
                var (bindings, prepared) = _prepared[index];
                var remapped = bindings.Select(binding => Remap(binding, planIndex, slotRemap)).ToImmutableArray();
                var outgoing = _edges.Where(edge => edge.Source == index).ToList();
                var successors = outgoing.Select(edge => edge.Target).Where(target => _active[target]).Distinct().Select(target => planIndex[target]).Order().ToImmutableArray();
                var predecessors = _edges.Where(edge => edge.Target == index).Select(edge => edge.Source).Distinct().Select(source => planIndex[source]).Order().ToImmutableArray();
                var definedOutputs = node.Outputs.Select(output => output.Name).ToHashSet(StringComparer.Ordinal);
                var requested = component.Spec.Outputs
                    .Select(output => outgoing.Count > 0 ? outgoing.Any(edge => edge.Output == output.Name) : definedOutputs.Contains(output.Name))
                    .ToImmutableArray();
                nodes.Add(new PlanNode
                {
                    Index = planIndex[index],
                    Definition = node,
                    Component = component,
                    Prepared = prepared,
                    Bindings = remapped,
                    BindingIndexByName = remapped.Select((binding, position) => (binding.Name, position))
                        .DistinctBy(pair => pair.Name, StringComparer.Ordinal)
                        .ToFrozenDictionary(pair => pair.Name, pair => pair.position, StringComparer.Ordinal),
                    FirstSlot = slotRemap.GetValueOrDefault(_firstSlot[index]),
                    Requested = requested,
                    Successors = successors,
                    Predecessors = predecessors,
                    PredecessorCount = predecessors.Length,
                    Role = _roles[index],
                    SessionAware = node.Field("session_id") is not null,
                    StreamsToOutput = outgoing.Any(edge => (_roles[edge.Target] & NodeRole.Output) != 0),
                    Tools = node.ToolMode ? ToolCatalog.Build(node, component.Spec) : [],
                    IdLower = node.Id.ToLowerInvariant(),
                });
            }

            return new ExecutionPlan(report, flowId, nodes.MoveToImmutable(), nextSlot, report.RequiredSecrets);
        }

        static InputBinding Remap(InputBinding binding, Dictionary<int, int> planIndex, Dictionary<int, int> slotRemap) =>
            binding.Edges.IsEmpty
                ? binding
                : new InputBinding
                {
                    Name = binding.Name,
                    Spec = binding.Spec,
                    Field = binding.Field,
                    FieldType = binding.FieldType,
                    Kind = binding.Kind,
                    Edges = [.. binding.Edges.Select(edge => new EdgeSource(planIndex[edge.NodeIndex], slotRemap[edge.Slot], edge.OutputName))],
                    IsList = binding.IsList,
                    Constant = binding.Constant,
                    SecretName = binding.SecretName,
                    TakesRunInput = binding.TakesRunInput,
                    TakesSession = binding.TakesSession,
                };
    }

    readonly record struct ValidEdge(int Source, string Output, int Target, string Field);
}
