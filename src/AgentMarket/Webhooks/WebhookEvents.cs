using AgentMarket.Catalog;
using AgentMarket.Catalog.Reviews;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Webhooks;

/// <summary>
/// The producers of events whose change happens in other areas: each adds the outbox row to the caller's context, so
/// it commits in the same <c>SaveChanges</c> or transaction as the change itself.
/// </summary>
public static class WebhookEvents
{
    public static readonly IReadOnlyList<WebhookPayloadField> ListingPublishedFields =
    [
        new("listing", "The listing's uuid."),
        new("slug", "Its address in the marketplace (/agents/{slug})."),
        new("name", "Its name."),
        new("published", "When it went live (UTC)."),
    ];

    public static readonly IReadOnlyList<WebhookPayloadField> ReviewCreatedFields =
    [
        new("review", "The review's uuid."),
        new("listing", "The reviewed listing's uuid."),
        new("rating", "Stars, 1 to 5."),
        new("text", "What the buyer wrote (the reviewer is not named, as on the page)."),
    ];

    /// <summary>The fields of <c>run.completed</c> and <c>run.failed</c>.</summary>
    public static readonly IReadOnlyList<WebhookPayloadField> RunFields =
    [
        new("run", "The run's uuid (run_id in the run's response)."),
        new("listing", "The agent's listing uuid."),
        new("config", "The subscription's uuid; null for playground runs."),
        new("key", "The API key's uuid; null for runs of signed-in members (chat, playground)."),
        new("session_id", "The session the run belongs to."),
        new("door", "How the run came in: api, chat, playground, widget, openai, mcp, langflow, langflow-webhook or external (a provider's usage report)."),
        new("status", "succeeded or failed."),
        new("error_code", "Why it failed or was refused (a problem code); null when it succeeded."),
        new("credits_charged", "Credits the run cost (0 when it failed)."),
        new("input_tokens", "Tokens sent to the model."),
        new("output_tokens", "Tokens the model produced."),
        new("usage_source", "reported (the model endpoint's own counts), bounded (held to what the text can hold) or estimated (it reported none); null when refused before running (ADR-172)."),
        new("latency_ms", "How long the whole request took, in milliseconds."),
        new("finished", "When it finished (UTC)."),
    ];

    /// <summary>Marks the listing live; the first time only, also queues <c>listing.published</c> for its provider.</summary>
    public static void Publish(AppDbContext db, Listing listing, DateTime now)
    {
        if (listing.PublishedUtc is not null)
        {
            return;
        }
        listing.PublishedUtc = now;
        db.OutboxEvents.Add(OutboxEvent.Create(listing.OrganizationId, "listing.published",
            new { listing = listing.Id, slug = listing.Slug, name = listing.Name, published = now }, now));
    }

    /// <summary>Queues <c>review.created</c> for the provider whose listing was reviewed; the reviewer stays anonymous, as on the page.</summary>
    public static void ReviewCreated(AppDbContext db, Review review, Guid providerOrganization) =>
        db.OutboxEvents.Add(OutboxEvent.Create(providerOrganization, "review.created",
            new { review = review.Id, listing = review.ListingId, rating = review.Rating, text = review.Text }, review.CreatedUtc));

    /// <summary>
    /// Queues <c>run.completed</c> / <c>run.failed</c> for the finished runs whose organization has an enabled endpoint
    /// subscribed to that type (<paramref name="subscribedEvents"/>, which the gateway caches). Runs are the busiest
    /// source of events, so the others are never written. <c>usage_source</c> says whether the tokens are the model
    /// endpoint's own figures (ADR-172); null when the run was refused before running.
    /// </summary>
    public static async Task RunsFinishedAsync(AppDbContext db, IReadOnlyList<AgentRun> runs, Func<Guid, Task<IReadOnlySet<string>>> subscribedEvents, DateTime now)
    {
        foreach (var run in runs)
        {
            if (run.Status == AgentRunStatus.Running)
            {
                continue;
            }
            var type = run.Status == AgentRunStatus.Succeeded ? "run.completed" : "run.failed";
            if ((await subscribedEvents(run.OrganizationId)).Contains(type))
            {
                db.OutboxEvents.Add(OutboxEvent.Create(run.OrganizationId, type, new
                {
                    run = run.Id,
                    listing = run.ListingId,
                    config = run.ConfigId,
                    key = run.KeyId,
                    session_id = run.SessionId,
                    door = run.Door,
                    status = run.Status == AgentRunStatus.Succeeded ? "succeeded" : "failed",
                    error_code = run.ErrorCode,
                    credits_charged = run.CreditsCharged,
                    input_tokens = run.InputTokens,
                    output_tokens = run.OutputTokens,
                    usage_source = run.UsageSource,
                    latency_ms = run.LatencyMs,
                    finished = run.FinishedUtc ?? now,
                }, now));
            }
        }
    }
}
