using System.Text.Json;
using AgentMarket.Admin.PlatformMetrics;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Credits;
using AgentMarket.Credits.Ledger;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Configuration;
using AgentMarket.Providers.Economics;
using AgentMarket.Runtime;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace AgentMarket.Subscriptions;

/// <summary>Subscribing ("Add to My Agents"), configuring and unsubscribing; the API and the buyer pages share it.</summary>
sealed class SubscriptionService(
    AppDbContext db, CurrentTenant tenant, AgentPlans plans, CreditGrants grants, IDataProtectionProvider protection,
    Keys.ApiKeyDirectory keys, IOptions<CreditsOptions> creditOptions, TimeProvider clock,
    LedgerWriter ledgerWriter, DatabaseConnection database, EconomicsRollups economics, PlatformRollups platform)
{
    public const string ModelKeyPurpose = "AgentMarket.Subscriptions.ModelApiKey";

    public static readonly IReadOnlyList<Webhooks.WebhookPayloadField> OrderCreatedFields =
    [
        new("order", "The order's uuid."),
        new("listing", "The agent's listing uuid."),
        new("config", "The subscription it created (its uuid)."),
    ];

    public static readonly IReadOnlyList<Webhooks.WebhookPayloadField> SubscriptionActivatedFields =
    [
        new("config", "The subscription's uuid."),
        new("listing", "The agent's listing uuid."),
    ];

    public static readonly IReadOnlyList<Webhooks.WebhookPayloadField> SubscriptionTerminatedFields = SubscriptionActivatedFields;

    public sealed record Failure(int Status, string Code, string Message, IDictionary<string, object?>? Extensions = null);

    /// <summary>
    /// Subscribes the current organization to an active listing (by uuid or slug) in a project (default: its Default
    /// project). A subscription-priced agent is paid for its first month at once; not enough credits → 402, nothing created.
    /// </summary>
    public async Task<(CustomerAgentConfig? Config, Order? Order, Failure? Failure)> SubscribeAsync(string offering, Guid? projectId, CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        if (await db.Organizations.IsSuspendedAsync(organization, ct))
        {
            return (null, null, new Failure(StatusCodes.Status403Forbidden, ProblemCodes.OrganizationSuspended, ProblemCodes.OrganizationSuspendedMessage));
        }
        var listing = await FindListingAsync(offering, ct);
        if (listing is null || listing.AgentVersionId is null)
        {
            return (null, null, new Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The agent was not found."));
        }
        var project = projectId is { } id
            ? await db.Projects.FirstOrDefaultAsync(p => p.Id == id, ct)
            : await db.Projects.FirstOrDefaultAsync(p => p.IsDefault, ct);
        if (project is null)
        {
            return (null, null, new Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The project was not found."));
        }
        if (await ActiveSubscriptionAsync(listing.Id, project.Id, ct) is { } existing)
        {
            return (null, null, AlreadySubscribed(existing));
        }
        var now = clock.GetUtcNow().UtcDateTime;
        // Every subscription starts with its own knowledge base (the Configure › Training tab); the agent's runs read it
        // when the provider declares a knowledge-base field.
        var knowledgeBase = new Knowledge.KnowledgeBase { OrganizationId = organization, Name = $"{listing.Name} knowledge", CreatedUtc = now };
        var config = new CustomerAgentConfig
        {
            OrganizationId = organization,
            KnowledgeBaseId = knowledgeBase.Id,
            ProjectId = project.Id,
            ListingId = listing.Id,
            AgentVersionId = listing.AgentVersionId.Value,
            State = SubscriptionState.Active,
            Name = listing.Name,
            SubscribedUtc = now,
            CreatedByUserId = tenant.UserId,
            UpdatedUtc = now,
            NextChargeUtc = listing.PricingModel == PricingModel.Subscription ? now.AddMonths(1) : null,
        };
        var monthly = listing.PricingModel == PricingModel.Subscription;
        // A subscription-priced agent's first month is charged in the transaction that stores the subscription: both
        // are stored or neither. Of two concurrent subscribes (two tabs, a retry), the one the database refuses rolls
        // its charge back with it.
        var firstMonth = monthly ? await MonthCommandAsync(config, listing, listing.CreditsPerRun, now, ct) : null;
        using var turn = monthly ? await database.WriterTurnAsync() : default;
        await using var transaction = monthly ? await db.Database.BeginTransactionAsync(ct) : null;
        // A month paid by a subscription the organization ended is still its own: adding the agent again within it
        // continues that month instead of paying another (claimed once, so two re-subscriptions cannot both use it).
        if (monthly && await ClaimPaidMonthAsync(listing.Id, now, ct) is { } paidUntil)
        {
            config.NextChargeUtc = paidUntil;
        }
        else if (firstMonth is not null && await ChargeWithinAsync(firstMonth, listing, ct) is { } refused)
        {
            await transaction!.RollbackAsync(ct);
            // The month a concurrent subscribe holds may be what the wallet is short of: say what happened.
            return (null, null, await ActiveSubscriptionAsync(listing.Id, project.Id, ct) is { } raced ? AlreadySubscribed(raced) : refused);
        }
        var order = new Order
        {
            OrganizationId = organization,
            ProjectId = project.Id,
            ListingId = listing.Id,
            ConfigId = config.Id,
            Type = OrderType.Create,
            State = OrderState.Done,
            CreatedByUserId = tenant.UserId,
            CreatedUtc = now,
        };
        db.KnowledgeBases.Add(knowledgeBase);
        db.CustomerAgentConfigs.Add(config);
        db.Orders.Add(order);
        db.OutboxEvents.Add(Platform.Events.OutboxEvent.Create(organization, "order.created", new { order = order.Id, listing = listing.Id, config = config.Id }, now));
        db.OutboxEvents.Add(Platform.Events.OutboxEvent.Create(organization, "subscription.activated", new { config = config.Id, listing = listing.Id }, now));
        try
        {
            await db.SaveChangesAsync(ct);
            if (transaction is not null)
            {
                await transaction.CommitAsync(ct);
            }
        }
        catch (DbUpdateException)
        {
            // A concurrent subscribe stored its subscription first (one active subscription per agent and project). The
            // rollback returns this one's month: its charge, or the month it claimed from the ended subscription.
            if (transaction is not null)
            {
                await transaction.RollbackAsync(CancellationToken.None);
            }
            db.ChangeTracker.Clear();
            if (await ActiveSubscriptionAsync(listing.Id, project.Id, ct) is { } raced)
            {
                return (null, null, AlreadySubscribed(raced));
            }
            throw;
        }
        return (config, order, null);
    }

    /// <summary>
    /// When the paid month of an ended subscription to <paramref name="listing"/> runs out: taken from that subscription
    /// so no other can take it too; null when there is none.
    /// </summary>
    async Task<DateTime?> ClaimPaidMonthAsync(Guid listing, DateTime now, CancellationToken ct)
    {
        var ended = await db.CustomerAgentConfigs.AsNoTracking()
            .Where(c => c.ListingId == listing && c.State == SubscriptionState.Terminated && c.NextChargeUtc > now)
            .OrderByDescending(c => c.NextChargeUtc).Select(c => new { c.Id, c.NextChargeUtc }).FirstOrDefaultAsync(ct);
        if (ended is null)
        {
            return null;
        }
        var claimed = await db.CustomerAgentConfigs.Where(c => c.Id == ended.Id && c.NextChargeUtc == ended.NextChargeUtc)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.NextChargeUtc, (DateTime?)null), ct);
        return claimed == 1 ? ended.NextChargeUtc : null;
    }

    Task<Guid?> ActiveSubscriptionAsync(Guid listing, Guid project, CancellationToken ct) =>
        db.CustomerAgentConfigs.AsNoTracking().Where(c => c.ListingId == listing && c.ProjectId == project && c.State != SubscriptionState.Terminated)
            .Select(c => (Guid?)c.Id).FirstOrDefaultAsync(ct);

    static Failure AlreadySubscribed(Guid existing) =>
        new(StatusCodes.Status409Conflict, "already_subscribed", "This agent is already in this project.",
            new Dictionary<string, object?> { ["customer_agent_config"] = existing });

    /// <summary>Ends the subscription: its keys stop at once; its history and usage stay.</summary>
    public async Task<bool> TerminateAsync(Guid configId, CancellationToken ct)
    {
        var config = await db.CustomerAgentConfigs.FirstOrDefaultAsync(c => c.Id == configId && c.State != SubscriptionState.Terminated, ct);
        if (config is null)
        {
            return false;
        }
        var now = clock.GetUtcNow().UtcDateTime;
        config.State = SubscriptionState.Terminated;
        config.TerminatedUtc = now;
        // NextChargeUtc stays: for a monthly agent it is when the month already paid ends, which adding the agent
        // again before then continues (the charge job skips ended subscriptions).
        await db.ApiKeys.Where(k => k.ConfigId == configId && k.RevokedUtc == null).ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedUtc, now), ct);
        db.Orders.Add(new Order
        {
            OrganizationId = config.OrganizationId,
            ProjectId = config.ProjectId,
            ListingId = config.ListingId,
            ConfigId = config.Id,
            Type = OrderType.Terminate,
            State = OrderState.Done,
            CreatedByUserId = tenant.UserId,
            CreatedUtc = now,
        });
        db.OutboxEvents.Add(Platform.Events.OutboxEvent.Create(config.OrganizationId, "subscription.terminated", new { config = config.Id, listing = config.ListingId }, now));
        await db.SaveChangesAsync(ct);
        keys.Forget();
        return true;
    }

    /// <summary>Applies a buyer's changes; declared-field values are validated against the agent's declarations.</summary>
    public async Task<(CustomerAgentConfig? Config, Failure? Failure)> UpdateAsync(Guid configId, UpdateConfigRequest request, CancellationToken ct)
    {
        var config = await db.CustomerAgentConfigs.Include(c => c.Listing).FirstOrDefaultAsync(c => c.Id == configId && c.State != SubscriptionState.Terminated, ct);
        if (config is null)
        {
            return (null, new Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The agent was not found."));
        }
        var values = SubscriptionSettings.Parse(config.SettingsJson);
        var changes = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Settings ?? [])
        {
            changes[key] = value;
        }
        foreach (var (key, value) in request.Persona ?? [])
        {
            if (!SubscriptionSettings.PersonaKeys.Contains(key))
            {
                return (null, Invalid($"persona.{key}", $"Unknown persona setting; use {string.Join(", ", SubscriptionSettings.PersonaKeys)}."));
            }
            changes[key] = value;
        }
        if (changes.Count > 0)
        {
            var fields = await FieldsAsync(config, ct);
            var problems = BuyerConfiguration.Problems(fields, changes.Where(c => c.Value.ValueKind != JsonValueKind.Null).ToDictionary());
            if (problems.Count > 0)
            {
                var (key, message) = problems[0];
                return (null, Invalid(SubscriptionSettings.PersonaKeys.Contains(key) && request.Persona?.ContainsKey(key) == true ? $"persona.{key}" : $"settings.{key}", message));
            }
            foreach (var (key, value) in changes)
            {
                if (value.ValueKind == JsonValueKind.Null)
                {
                    values.Remove(key); // back to the provider's default
                }
                else
                {
                    values[key] = value;
                }
            }
            config.SettingsJson = SubscriptionSettings.Serialize(values);
        }
        if (request.Name is { } name)
        {
            config.Name = name.Trim();
        }
        // Pointing at a knowledge base holds it until the change is saved, so a concurrent delete sees the change or is
        // seen by it (ADR-146).
        await using var pointing = request.KnowledgeBase is null ? null : await db.Database.BeginTransactionAsync(ct);
        if (request.KnowledgeBase is { } knowledgeBaseId)
        {
            if (!await Knowledge.KnowledgeBases.LockedAsync(db, knowledgeBaseId, forDelete: false, ct))
            {
                return (null, Invalid("knowledge_base", "No knowledge base of your organization has this id."));
            }
            config.KnowledgeBaseId = knowledgeBaseId;
        }
        if (request.Branding is { } branding)
        {
            if (branding.BrandColor is { } color && !System.Text.RegularExpressions.Regex.IsMatch(color, "^#[0-9a-fA-F]{6}$"))
            {
                return (null, Invalid("branding.brand_color", "Use a color like #7c3aed."));
            }
            if (branding.LogoUrl is { Length: > 0 } logo && !(Uri.TryCreate(logo, UriKind.Absolute, out var logoUri) && logoUri.Scheme == Uri.UriSchemeHttps))
            {
                return (null, Invalid("branding.logo_url", "Use an https:// image address."));
            }
            config.BrandColor = branding.BrandColor ?? config.BrandColor;
            config.LogoUrl = branding.LogoUrl ?? config.LogoUrl;
            config.WelcomeMessage = branding.WelcomeMessage ?? config.WelcomeMessage;
        }
        if (request.Widget is { } widget)
        {
            config.WidgetPosition = widget.Position ?? config.WidgetPosition;
            config.WidgetTheme = widget.Theme ?? config.WidgetTheme;
        }
        if (request.Model is { } model)
        {
            if (model.BaseUrl is { Length: > 0 } && !await OwnModelEndpointAllowedAsync(config, ct))
            {
                return (null, new Failure(StatusCodes.Status409Conflict, ProblemCodes.OwnModelEndpointNotAllowed,
                    "This agent's provider keeps its prompts private, so its model calls cannot go to an endpoint of your own. A key for the platform's endpoint still works: leave the base URL empty."));
            }
            if (model.BaseUrl is { Length: > 0 } baseUrl && !(Uri.TryCreate(baseUrl, UriKind.Absolute, out var modelUri) && (modelUri.Scheme == Uri.UriSchemeHttps || modelUri.Scheme == Uri.UriSchemeHttp)))
            {
                return (null, Invalid("model.base_url", "Use the endpoint's http(s) address, for example https://api.openai.com/v1."));
            }
            var endpointDropped = model.BaseUrl is { Length: 0 } && config.ModelBaseUrl is not null;
            config.ModelBaseUrl = model.BaseUrl is null ? config.ModelBaseUrl : model.BaseUrl.Length == 0 ? null : model.BaseUrl;
            if (endpointDropped && model.ApiKey is not { Length: > 0 })
            {
                // The stored key was that endpoint's: sent to the platform's endpoint it would leak, and fail.
                config.ModelApiKeyProtected = null;
            }
            config.ModelName = model.Model is null ? config.ModelName : model.Model.Length == 0 ? null : model.Model;
            if (model.ClearApiKey == true)
            {
                config.ModelApiKeyProtected = null;
            }
            else if (model.ApiKey is { Length: > 0 } apiKey)
            {
                config.ModelApiKeyProtected = protection.CreateProtector(ModelKeyPurpose).Protect(apiKey);
            }
        }
        config.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        if (pointing is not null)
        {
            await pointing.CommitAsync(ct);
        }
        return (config, null);
    }

    /// <summary>Moves the subscription to the listing's current version (the buyer's consent to a minor or major upgrade).</summary>
    public async Task<CustomerAgentConfig?> UpgradeAsync(Guid configId, CancellationToken ct)
    {
        var config = await db.CustomerAgentConfigs.Include(c => c.Listing).FirstOrDefaultAsync(c => c.Id == configId && c.State != SubscriptionState.Terminated, ct);
        if (config?.Listing?.AgentVersionId is not { } current)
        {
            return null;
        }
        config.AgentVersionId = current;
        config.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return config;
    }

    public Task<IReadOnlyList<ConfigurableField>> FieldsAsync(CustomerAgentConfig config, CancellationToken ct) =>
        config.Listing?.AgentId is { } agentId ? FieldsAsync(agentId, ct) : Task.FromResult<IReadOnlyList<ConfigurableField>>([]);

    async Task<IReadOnlyList<ConfigurableField>> FieldsAsync(Guid agentId, CancellationToken ct) => (await plans.SettingsAsync(agentId, ct)).Fields;

    /// <summary>Whether the subscription may send the agent's model calls to an endpoint of the buyer's own (ADR-138).</summary>
    public async Task<bool> OwnModelEndpointAllowedAsync(CustomerAgentConfig config, CancellationToken ct) =>
        config.Listing?.AgentId is not { } agentId || (await plans.SettingsAsync(agentId, ct)).BuyerModelEndpointsAllowed;

    /// <summary>
    /// Charges a subscription-priced agent's month and saves the subscription as <paramref name="paid"/> leaves it, in one
    /// transaction: a month is charged exactly when the subscription records it. One ledger operation keyed by
    /// subscription and period, so a retry never charges twice. 402 when the wallet cannot pay; nothing is saved then.
    /// </summary>
    internal async Task<Failure?> ChargeMonthAsync(CustomerAgentConfig config, Listing listing, long credits, DateTime period, Action paid, CancellationToken ct)
    {
        var month = await MonthCommandAsync(config, listing, credits, period, ct);
        var readState = db.Entry(config).Property(c => c.State).OriginalValue;
        using var turn = await database.WriterTurnAsync();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The job read the subscription before this transaction. One ended or charged meanwhile is not charged; and this
        // update holds its row until the commit (PostgreSQL; SQLite's transaction holds the write lock), so an unsubscribe
        // from now on waits for the charge and then ends it.
        if (await db.CustomerAgentConfigs.Where(c => c.Id == config.Id && c.State == readState && c.NextChargeUtc == period)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.UpdatedUtc, c => c.UpdatedUtc), ct) != 1)
        {
            return new Failure(StatusCodes.Status409Conflict, "subscription_changed", "The subscription changed while its month was being charged; nothing was charged.");
        }
        if (await ChargeWithinAsync(month, listing, ct) is { } refused)
        {
            return refused; // disposing the transaction rolls it back
        }
        paid();
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return null;
    }

    /// <summary>The ledger command of a month, its accounts created and the day's grants given (both write outside the transaction).</summary>
    async Task<ChargeCommand> MonthCommandAsync(CustomerAgentConfig config, Listing listing, long credits, DateTime period, CancellationToken ct)
    {
        var plan = await db.OrganizationPlans.AsNoTracking().Where(p => p.OrganizationId == config.OrganizationId).Select(p => p.PlanCode).FirstAsync(ct);
        await grants.EnsureAsync(config.OrganizationId, plan, ct);
        // A provider subscribed to its own agent pays like any buyer and earns nothing from it (ADR-126).
        Guid? provider = config.OrganizationId == listing.OrganizationId ? null : listing.ProviderId;
        var month = new ChargeCommand($"subscription:{config.Id}:{period:yyyyMMddHHmmss}:charge", config.OrganizationId, credits, provider, creditOptions.Value.Split,
            $"{listing.Name} monthly subscription", "subscription", config.Id.ToString());
        await ledgerWriter.EnsureAccountsAsync([month]);
        return month;
    }

    /// <summary>
    /// Applies the month's charge in the current transaction and adds it to the provider's and the platform's rollups
    /// there, as the run journal does for runs: the charge is counted exactly when its credits move, and a replayed charge
    /// adds nothing, since the transaction that made it first counted it.
    /// </summary>
    async Task<Failure?> ChargeWithinAsync(ChargeCommand month, Listing listing, CancellationToken ct)
    {
        var result = (await ledgerWriter.ApplyWithinAsync(db.Database.GetDbConnection(), db.Database.CurrentTransaction!.GetDbTransaction(), [month]))[0];
        Admin.Metrics.PlatformMeters.LedgerOperation(month.Kind.ToString(), result.Replayed ? "replayed" : result.Status.ToString());
        if (result.Status == LedgerStatus.InsufficientCredits)
        {
            return new Failure(StatusCodes.Status402PaymentRequired, ProblemCodes.InsufficientCredits, $"This agent costs {month.Amount:N0} credits a month.",
                new Dictionary<string, object?> { ["required"] = result.Required, ["available"] = result.Available });
        }
        if (!result.Succeeded)
        {
            return new Failure(StatusCodes.Status503ServiceUnavailable, ProblemCodes.ServiceUnavailable,
                $"The month could not be charged ({result.Status}); nothing was changed. Try again.");
        }
        if (!result.Replayed)
        {
            var day = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
            var added = await economics.AddSubscriptionChargeAsync(listing.ProviderId, listing.Id, month.Organization, day, month.IdempotencyKey, ct);
            await platform.AddAsync(added, ct);
        }
        return null;
    }

    Task<Listing?> FindListingAsync(string offering, CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        var listings = db.Listings.AsNoTracking()
            .Where(l => l.State == ListingState.Active && (l.Visibility == ListingVisibility.Public || l.OrganizationId == organization));
        var slug = offering.Trim().ToLowerInvariant(); // slugs are stored lower-case
        return Guid.TryParse(offering, out var id)
            ? listings.FirstOrDefaultAsync(l => l.Id == id, ct)
            : listings.WithSlug(db, slug).FirstOrDefaultAsync(ct);
    }

    static Failure Invalid(string field, string message) =>
        new(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, message,
            new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } });
}
