using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Runtime;

/// <summary>
/// One message of a chat session (session memory, Langflow's message table), owned by the running organization and
/// partitioned by subscription (by agent for the playground), so a session id chosen by a client can never reach
/// another subscription's history.
/// </summary>
public sealed class SessionMessage : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    /// <summary>The subscription, or the listing for playground runs.</summary>
    public Guid PartitionId { get; init; }
    public required string SessionId { get; init; }

    /// <summary>The engine's message id (stable across re-saves of a streamed message).</summary>
    public required string MessageId { get; init; }
    public string ContextId { get; init; } = "";
    public string? Sender { get; set; }
    public string? SenderName { get; set; }
    public string Text { get; set; } = "";
    public string Category { get; set; } = "message";
    public bool Error { get; set; }
    public required string RunId { get; init; }
    public DateTime CreatedUtc { get; init; }
}

/// <summary>A chat session of one subscription: what it has spent (for the session credit cap) and when it was last used.</summary>
public sealed class ChatSession : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid ConfigId { get; init; }
    public required string SessionId { get; init; }
    public string? Title { get; set; }
    public long CreditsSpent { get; set; }
    public int Runs { get; set; }
    public DateTime CreatedUtc { get; init; }
    public DateTime LastActivityUtc { get; set; }
}

sealed class SessionMessageConfiguration : IEntityTypeConfiguration<SessionMessage>
{
    public void Configure(EntityTypeBuilder<SessionMessage> e)
    {
        e.ToTable("session_messages");
        e.Property(x => x.SessionId).HasMaxLength(200);
        e.Property(x => x.MessageId).HasMaxLength(100);
        e.Property(x => x.ContextId).HasMaxLength(200);
        e.Property(x => x.Sender).HasMaxLength(40);
        e.Property(x => x.SenderName).HasMaxLength(200);
        e.Property(x => x.Text).HasMaxLength(1_000_000);
        e.Property(x => x.Category).HasMaxLength(40);
        e.Property(x => x.RunId).HasMaxLength(100);
        e.HasIndex(x => new { x.PartitionId, x.SessionId, x.CreatedUtc });
        e.HasIndex(x => new { x.PartitionId, x.MessageId }).IsUnique();
    }
}

sealed class ChatSessionConfiguration : IEntityTypeConfiguration<ChatSession>
{
    public void Configure(EntityTypeBuilder<ChatSession> e)
    {
        e.ToTable("chat_sessions");
        e.Property(x => x.SessionId).HasMaxLength(200);
        e.Property(x => x.Title).HasMaxLength(200);
        e.HasIndex(x => new { x.ConfigId, x.SessionId }).IsUnique();
        e.HasIndex(x => new { x.OrganizationId, x.LastActivityUtc });
    }
}
