using AgentMarket.Platform.Data;
using AgentMarket.Providers.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Providers.Configuration;

/// <summary>What a buyer types into a configurable field, and so what the flow receives.</summary>
public enum ConfigurableFieldKind
{
    /// <summary>One line of text (a name, a greeting).</summary>
    Text,

    /// <summary>Several lines of text (a system prompt, behaviour rules).</summary>
    LongText,
    Number,
    Boolean,

    /// <summary>One of the provider's <see cref="ConfigurableField.Options"/>.</summary>
    Choice,

    /// <summary>The buyer's own knowledge base (their training documents), bound by the runtime rather than typed.</summary>
    KnowledgeBase,
}

/// <summary>
/// One flow field the provider lets buyers set (SPEC §5): a node's template field, shown to buyers with a label and a
/// default. Buyer configuration reaches a flow only through these (<see cref="BuyerConfiguration"/>).
/// </summary>
public sealed class ConfigurableField : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid AgentId { get; init; }

    /// <summary>The stable name buyer configurations use (snake_case), so they survive new versions of the flow.</summary>
    public required string Key { get; set; }
    public required string NodeId { get; set; }
    public required string FieldName { get; set; }
    public required string Label { get; set; }
    public string? HelpText { get; set; }
    public ConfigurableFieldKind Kind { get; set; }

    /// <summary>The value buyers start from, as text (numbers and booleans in their JSON spelling).</summary>
    public string? DefaultValue { get; set; }
    public List<string> Options { get; set; } = [];

    /// <summary>The smallest and largest value a buyer may give a number field (a temperature between 0 and 2); null: no bound.</summary>
    public double? Minimum { get; set; }
    public double? Maximum { get; set; }
    public int SortOrder { get; set; }
}

sealed class ConfigurableFieldConfiguration : IEntityTypeConfiguration<ConfigurableField>
{
    public void Configure(EntityTypeBuilder<ConfigurableField> e)
    {
        e.ToTable("configurable_fields");
        e.Property(x => x.Key).HasMaxLength(60);
        e.Property(x => x.NodeId).HasMaxLength(200);
        e.Property(x => x.FieldName).HasMaxLength(100);
        e.Property(x => x.Label).HasMaxLength(100);
        e.Property(x => x.HelpText).HasMaxLength(300);
        e.Property(x => x.DefaultValue).HasMaxLength(ConfigurableFieldRules.MaxTextLength);
        e.HasOne<ProviderAgent>().WithMany().HasForeignKey(x => x.AgentId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.AgentId, x.Key }).IsUnique();
        e.HasIndex(x => new { x.AgentId, x.NodeId, x.FieldName }).IsUnique();
    }
}
