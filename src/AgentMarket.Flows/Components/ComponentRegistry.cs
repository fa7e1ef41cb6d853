using System.Collections.Frozen;
using System.Collections.Immutable;
using AgentMarket.Flows.Loading;

namespace AgentMarket.Flows.Components;

/// <summary>Finds the native implementation of a node (format §1.6). Built once; read-only afterwards.</summary>
internal sealed class ComponentRegistry
{
    readonly FrozenDictionary<string, Component> _byClass;
    readonly FrozenDictionary<string, Component> _byType;

    public ComponentRegistry(IEnumerable<Component> components)
    {
        var all = components.ToImmutableArray();
        Components = all;
        _byClass = all.SelectMany(component => component.Spec.ClassNames.Select(name => (name, component)))
            .ToFrozenDictionary(pair => pair.name, pair => pair.component, StringComparer.Ordinal);
        _byType = all.SelectMany(component => component.Spec.TypeNames.Select(name => (name, component)))
            .ToFrozenDictionary(pair => pair.name, pair => pair.component, StringComparer.Ordinal);
    }

    public ImmutableArray<Component> Components { get; }

    /// <summary>Lookup order: the <c>metadata.module</c> class, the class in the code, then <c>data.type</c>.</summary>
    public Component? Find(NodeDefinition node)
    {
        if (node.ModuleClass is { } moduleClass && _byClass.TryGetValue(moduleClass, out var byModule))
        {
            return byModule;
        }

        if (node.CodeClass is { } codeClass && _byClass.TryGetValue(codeClass, out var byCode))
        {
            return byCode;
        }

        return _byType.GetValueOrDefault(node.Type);
    }
}
