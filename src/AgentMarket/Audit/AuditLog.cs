using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Audit;

/// <summary>
/// Writes audit entries. <see cref="Record"/> adds the entry to the request's <see cref="AppDbContext"/> without saving,
/// so it commits in the caller's own <c>SaveChanges</c> together with the change it describes (or not at all).
/// <see cref="RecordAsync"/> saves at once, for actions whose change is not an EF save of this context (a failed
/// sign-in, a ledger transfer, a bulk update). <see cref="RecordChanges"/> records an edit by the fields it changed, and
/// an edit that changed nothing not at all. The actor is the signed-in user unless given; the client address is the
/// request's.
/// </summary>
public sealed class AuditLog(AppDbContext db, CurrentTenant tenant, IHttpContextAccessor http, TimeProvider clock)
{
    const int SummaryLimit = 4000;

    static readonly JsonSerializerOptions Json = CreateJsonOptions();

    public AuditEntry Record(string action, Guid? organizationId, string? targetType, object? targetId,
        object? before = null, object? after = null, Guid? actorUserId = null, string? actorEmail = null)
    {
        var entry = new AuditEntry
        {
            Action = action,
            OccurredUtc = clock.GetUtcNow().UtcDateTime,
            ActorUserId = actorUserId ?? tenant.UserId,
            ActorEmail = actorEmail ?? tenant.UserEmail,
            OrganizationId = organizationId,
            TargetType = targetType,
            TargetId = targetId?.ToString(),
            Before = Summary(before),
            After = Summary(after),
            ClientIp = http.HttpContext?.Connection.RemoteIpAddress?.ToString(),
        };
        db.AuditEntries.Add(entry);
        return entry;
    }

    public async Task RecordAsync(string action, Guid? organizationId, string? targetType, object? targetId,
        object? before = null, object? after = null, Guid? actorUserId = null, string? actorEmail = null, CancellationToken ct = default)
    {
        Record(action, organizationId, targetType, targetId, before, after, actorUserId, actorEmail);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Records an edit of <paramref name="targetId"/> as the fields whose values differ between two snapshots of it, taken
    /// before and after the edit (objects of the same shape, such as anonymous objects; never with secrets). Records
    /// nothing and returns false when no field differs: an edit that changes nothing is not an event.
    /// </summary>
    public bool RecordChanges(string action, Guid? organizationId, string? targetType, object? targetId, object before, object after)
    {
        var previous = JsonSerializer.SerializeToNode(before, Json)!.AsObject();
        var current = JsonSerializer.SerializeToNode(after, Json)!.AsObject();
        var changedBefore = new JsonObject();
        var changedAfter = new JsonObject();
        foreach (var (field, value) in current)
        {
            var old = previous[field];
            if (!JsonNode.DeepEquals(old, value))
            {
                changedBefore[field] = old?.DeepClone();
                changedAfter[field] = value?.DeepClone();
            }
        }
        if (changedAfter.Count == 0)
        {
            return false;
        }
        Record(action, organizationId, targetType, targetId, changedBefore, changedAfter);
        return true;
    }

    static string? Summary(object? value)
    {
        if (value is null)
        {
            return null;
        }
        var json = JsonSerializer.Serialize(value, Json);
        // A summary, not a copy: an oversized one is cut rather than failing the action it records.
        return json.Length <= SummaryLimit ? json : JsonSerializer.Serialize(new { truncated = json[..(SummaryLimit / 2)] }, Json);
    }

    static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions();
        PlatformModule.ConfigureJson(options);
        return options;
    }
}
