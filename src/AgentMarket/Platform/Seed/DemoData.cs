using System.Security.Cryptography;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Reviews;
using AgentMarket.Catalog.SocialProof;
using AgentMarket.Identity;
using AgentMarket.Knowledge;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using AgentMarket.Providers.Agents;
using AgentMarket.Providers.Configuration;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Seed;

/// <summary>
/// The catalog's categories (always) and, with <c>Seed:Demo</c>, three providers with a dozen listings and reviews so a
/// first start shows a living marketplace: each listing runs an agent built from a template, so it can be tried and
/// subscribed to (answers need a model, <c>Llm:*</c>). Idempotent: rows are matched by slug, handle or email and never
/// duplicated. Demo accounts get random passwords nobody knows, so a demo install has no default credentials.
/// </summary>
sealed class DemoData(IServiceScopeFactory scopes, IConfiguration configuration, TimeProvider clock, ILogger<DemoData> logger) : IHostedService
{
    static readonly (string Slug, string Name, string Icon)[] Categories =
    [
        ("agents", "Agents", "bot"),
        ("apps", "Apps", "grid"),
        ("assistants", "Assistants", "chat"),
        ("automations", "Automations", "bolt"),
    ];

    sealed record DemoProvider(string Handle, string Name, string Bio, string OwnerName);

    sealed record DemoListing(string Provider, string Slug, string Name, string Category, string Short, string Description, string[] Tags,
        PricingModel Pricing, long Credits, long Min, long Max, bool Premium);

    static readonly DemoProvider[] Providers =
    [
        new("northwind-ai", "Northwind AI", "Agents for sales and support teams, built on years of customer-service data.", "Nadia North"),
        new("lumen-labs", "Lumen Labs", "Research and writing assistants that cite their sources.", "Leo Lumen"),
        new("flowsmith", "Flowsmith", "Automations that connect your documents, inbox and spreadsheets.", "Fiona Smith"),
    ];

    static readonly DemoListing[] Listings =
    [
        new("northwind-ai", "support-copilot", "Support Copilot", "agents", "Answers customer tickets from your help center, in your brand voice.",
            "## What it does\nReads your help-center articles and answers tickets with links to the source.\n\n- Hands off to a human when unsure\n- Works in 30 languages",
            ["support", "helpdesk", "customer service"], PricingModel.FixedCredits, 5, 0, 0, true),
        new("northwind-ai", "lead-qualifier", "Lead Qualifier", "agents", "Scores inbound leads and drafts the first reply.",
            "Connect your form or CRM export; get a score, a reason and a draft email for each lead.", ["sales", "crm", "email"], PricingModel.FixedCredits, 3, 0, 0, false),
        new("northwind-ai", "faq-bot", "FAQ Bot", "assistants", "A friendly chat assistant for your website's frequently asked questions.",
            "Upload your FAQ and embed the widget. Visitors get instant answers.", ["faq", "website", "widget"], PricingModel.Free, 0, 0, 0, false),
        new("northwind-ai", "churn-radar", "Churn Radar", "apps", "Spots at-risk accounts in your usage exports and explains why.",
            "Paste a CSV of account activity; get a ranked list with the signals behind each score.", ["analytics", "customer success"], PricingModel.VariableCredits, 0, 4, 20, true),
        new("lumen-labs", "research-assistant", "Research Assistant", "assistants", "Finds, reads and summarises sources, with citations.",
            "Ask a question; get a structured brief with quotes and links.", ["research", "summaries", "citations"], PricingModel.VariableCredits, 0, 5, 25, true),
        new("lumen-labs", "blog-writer", "Blog Writer", "agents", "Turns an outline into a publish-ready post in your tone.",
            "Give it a topic and three bullet points; it writes, titles and suggests images.", ["writing", "marketing", "seo"], PricingModel.FixedCredits, 8, 0, 0, false),
        new("lumen-labs", "meeting-summarizer", "Meeting Summarizer", "apps", "Summaries, decisions and action items from any transcript.",
            "Paste a transcript; get decisions, owners and due dates.", ["meetings", "productivity"], PricingModel.FixedCredits, 4, 0, 0, false),
        new("lumen-labs", "translator-pro", "Translator Pro", "assistants", "Context-aware translation that keeps your terminology.",
            "Upload a glossary once; every translation respects it.", ["translation", "localization"], PricingModel.Subscription, 500, 0, 0, true),
        new("flowsmith", "invoice-extractor", "Invoice Extractor", "automations", "Pulls totals, dates and line items out of invoices as JSON.",
            "Send invoices by API or email; receive structured data you can book.", ["finance", "documents", "json"], PricingModel.FixedCredits, 2, 0, 0, false),
        new("flowsmith", "inbox-triage", "Inbox Triage", "automations", "Labels, prioritises and drafts replies for a shared inbox.",
            "Rules in plain language: “flag anything about refunds”.", ["email", "automation"], PricingModel.FixedCredits, 1, 0, 0, false),
        new("flowsmith", "sheet-cleaner", "Sheet Cleaner", "apps", "Fixes messy spreadsheets: dates, duplicates and typos.",
            "Upload a CSV, get a clean one back with a change log.", ["spreadsheets", "data"], PricingModel.Free, 0, 0, 0, false),
        new("flowsmith", "webhook-router", "Webhook Router", "automations", "Routes incoming webhooks to the right team with a summary.",
            "Point any service's webhook here; summaries arrive in your channel.", ["webhooks", "integration"], PricingModel.FixedCredits, 1, 0, 0, false),
    ];

    static readonly (string Slug, int Rating, string Text)[] Reviews =
    [
        ("support-copilot", 5, "Cut our first-response time in half."),
        ("support-copilot", 4, "Great answers; we tuned the tone in the persona settings."),
        ("research-assistant", 5, "The citations make it trustworthy."),
        ("blog-writer", 4, "Good first drafts, keeps our voice."),
        ("invoice-extractor", 5, "Handles our scanned invoices fine."),
        ("faq-bot", 4, "Set up in ten minutes."),
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await EnsureCategoriesAsync(db, cancellationToken);
        if (configuration.GetValue<bool>("Seed:Demo"))
        {
            await EnsureDemoAsync(db, scope.ServiceProvider, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    static async Task EnsureCategoriesAsync(AppDbContext db, CancellationToken ct)
    {
        var existing = await db.Categories.Select(c => c.Slug).ToListAsync(ct);
        for (var i = 0; i < Categories.Length; i++)
        {
            var (slug, name, icon) = Categories[i];
            if (!existing.Contains(slug))
            {
                db.Categories.Add(new Category { Slug = slug, Name = name, Icon = icon, SortOrder = i });
            }
        }
        await db.SaveChangesAsync(ct);
    }

    async Task EnsureDemoAsync(AppDbContext db, IServiceProvider services, CancellationToken ct)
    {
        var factory = services.GetRequiredService<OrganizationFactory>();
        var hasher = services.GetRequiredService<IPasswordHasher<User>>();
        var now = clock.GetUtcNow().UtcDateTime;
        var providers = new Dictionary<string, Provider>();
        foreach (var demo in Providers)
        {
            var provider = await db.Providers.FirstOrDefaultAsync(p => p.Handle == demo.Handle, ct);
            if (provider is null)
            {
                var user = await EnsureUserAsync(db, factory, hasher, $"{demo.Handle}@demo.agentmarket.local", demo.OwnerName, now, ct);
                var organizationId = await db.Memberships.Where(m => m.UserId == user.Id).Select(m => m.OrganizationId).FirstAsync(ct);
                provider = new Provider
                {
                    OrganizationId = organizationId, Handle = demo.Handle, Name = demo.Name, Bio = demo.Bio, IsVerified = true,
                    State = ProviderState.Approved, DecidedUtc = now, CreatedUtc = now,
                };
                db.Providers.Add(provider);
                await db.SaveChangesAsync(ct);
            }
            providers[demo.Handle] = provider;
        }

        var categories = await db.Categories.ToDictionaryAsync(c => c.Slug, c => c.Id, ct);
        var listings = await db.Listings.ToDictionaryAsync(l => l.Slug, ct);
        foreach (var demo in Listings.Where(l => !listings.ContainsKey(l.Slug)))
        {
            var provider = providers[demo.Provider];
            var listing = new Listing
            {
                ProviderId = provider.Id, OrganizationId = provider.OrganizationId, Slug = demo.Slug, Name = demo.Name,
                CategoryId = categories[demo.Category], ShortDescription = demo.Short, Description = demo.Description, Tags = [.. demo.Tags],
                PricingModel = demo.Pricing, CreditsPerRun = demo.Credits, CreditsMin = demo.Min, CreditsMax = demo.Max, IsPremium = demo.Premium,
                Visibility = ListingVisibility.Public, State = ListingState.Active, CreatedUtc = now, PublishedUtc = now,
            };
            db.Listings.Add(listing);
            listings[demo.Slug] = listing;
        }
        await db.SaveChangesAsync(ct);
        await EnsureAgentsAsync(db, providers, ct);

        // Reviews come from demo buyer organizations; the listing's counters are derived from the reviews that exist.
        var buyers = new List<Guid>();
        for (var i = 0; i < Reviews.Length; i++)
        {
            var (slug, rating, text) = Reviews[i];
            var buyer = await EnsureUserAsync(db, factory, hasher, $"buyer{i + 1}@demo.agentmarket.local", $"Demo Buyer {i + 1}", now, ct);
            var buyerOrganization = await db.Memberships.Where(m => m.UserId == buyer.Id).Select(m => m.OrganizationId).FirstAsync(ct);
            buyers.Add(buyerOrganization);
            var listing = listings[slug];
            if (!await db.Reviews.AnyAsync(r => r.ListingId == listing.Id && r.OrganizationId == buyerOrganization, ct))
            {
                db.Reviews.Add(new Review { ListingId = listing.Id, OrganizationId = buyerOrganization, UserId = buyer.Id, Rating = rating, Text = text, CreatedUtc = now, UpdatedUtc = now });
            }
        }
        await db.SaveChangesAsync(ct);
        await EnsureRunsAsync(db, listings.Values.ToList(), buyers, now, ct);
        // Social proof is derived from the facts (runs and reviews), never typed in.
        await services.GetRequiredService<RunFacts>().RepairAsync(ct);
        logger.LogInformation("Demo data ensured: {Providers} providers, {Listings} listings", providers.Count, listings.Count);
    }

    /// <summary>
    /// Gives each demo listing without one an agent to serve: the template that fits it (the two that answer from the
    /// buyer's documents start from the knowledge-base assistant), with a persona drawn from the listing, created as its
    /// provider would, in the provider's organization. Listings seeded before demo listings had agents get theirs too.
    /// </summary>
    async Task EnsureAgentsAsync(AppDbContext db, Dictionary<string, Provider> providers, CancellationToken ct)
    {
        var unserved = await db.Listings.AsNoTracking().Where(l => l.AgentId == null).Select(l => l.Slug).ToListAsync(ct);
        foreach (var demo in Listings.Where(l => unserved.Contains(l.Slug)))
        {
            var provider = providers[demo.Provider];
            await using var scope = scopes.CreateAsyncScope();
            var owner = await db.Users.AsNoTracking().SingleAsync(u => u.Email == $"{demo.Provider}@demo.agentmarket.local", ct);
            var tenant = scope.ServiceProvider.GetRequiredService<CurrentTenant>();
            tenant.SetUser(owner.Id, owner.Email);
            tenant.Set(provider.OrganizationId, MembershipRole.Owner);
            var template = TemplateFor(demo);
            var providerDb = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var (agent, failure) = await scope.ServiceProvider.GetRequiredService<TemplateStarter>().StartAsync(template, demo.Name, demo.Short, demo.Category, ct);
            if (failure is not null)
            {
                // An operator may have suspended or refused a demo provider since: its listing stays without an agent.
                logger.LogWarning("The demo listing {Slug} gets no agent: {Reason}", demo.Slug, failure.Message);
                continue;
            }
            if (template.Fields.Any(f => f.Kind == ConfigurableFieldKind.KnowledgeBase))
            {
                // The provider's own documents, which its agent answers from next to each buyer's (and alone in the playground).
                var knowledgeBase = new KnowledgeBase { OrganizationId = provider.OrganizationId, Name = $"{demo.Name} documents", CreatedUtc = clock.GetUtcNow().UtcDateTime };
                providerDb.KnowledgeBases.Add(knowledgeBase);
                await providerDb.SaveChangesAsync(ct);
                await scope.ServiceProvider.GetRequiredService<TrainingDocumentIntake>().AddTextAsync(provider.OrganizationId, knowledgeBase.Id,
                    TrainingDocumentKind.Topic, $"About {demo.Name}", $"{demo.Short}\n\n{demo.Description}", reuseIdentical: true, ct);
                agent!.KnowledgeBaseId = knowledgeBase.Id;
            }
            var listing = await providerDb.Listings.SingleAsync(l => l.Slug == demo.Slug, ct);
            providerDb.Entry(listing).Property(l => l.AgentId).CurrentValue = agent!.Id;
            var version = await providerDb.AgentVersions.SingleAsync(v => v.AgentId == agent.Id, ct);
            await scope.ServiceProvider.GetRequiredService<AgentVersions>().ServeAsync(listing, version, ct);
            await providerDb.SaveChangesAsync(ct);
        }
    }

    static FlowTemplate TemplateFor(DemoListing demo)
    {
        if (demo.Slug is "support-copilot" or "faq-bot")
        {
            return FlowTemplates.Find("knowledge_base_assistant")!;
        }
        var template = FlowTemplates.Find("prompt_assistant")!;
        var persona = $"You are {demo.Name}, an assistant that {char.ToLowerInvariant(demo.Short[0])}{demo.Short[1..]} {demo.Description} " +
            "Answer clearly and briefly, in the language the user writes in.";
        return template with { Fields = [.. template.Fields.Select(f => f.Key == "system_prompt" ? f with { DefaultValue = persona } : f)] };
    }

    /// <summary>
    /// Run records for the demo listings, spread over the last 30 days among the demo buyers (so every reviewer has
    /// completed runs of what they reviewed), about 3% failed. Deterministic, and added once.
    /// </summary>
    static async Task EnsureRunsAsync(AppDbContext db, List<Listing> listings, List<Guid> buyers, DateTime now, CancellationToken ct)
    {
        var ids = listings.Select(l => l.Id).ToList();
        if (await db.RunRecords.AnyAsync(r => ids.Contains(r.ListingId), ct))
        {
            return;
        }
        var random = new Random(20251216);
        foreach (var (listing, index) in listings.OrderBy(l => l.Slug, StringComparer.Ordinal).Select((l, i) => (l, i)))
        {
            var runs = DemoRunCounts[index % DemoRunCounts.Length];
            for (var run = 0; run < runs; run++)
            {
                var finished = now.AddMinutes(-random.Next(1, 30 * 24 * 60));
                db.RunRecords.Add(new RunRecord
                {
                    OrganizationId = buyers[run % buyers.Count],
                    ListingId = listing.Id,
                    Outcome = run % 33 == 32 ? RunOutcome.Failed : RunOutcome.Completed,
                    StartedUtc = finished.AddSeconds(-random.Next(2, 40)),
                    FinishedUtc = finished,
                    Day = DateOnly.FromDateTime(finished),
                });
            }
        }
        await db.SaveChangesAsync(ct);
    }

    static readonly int[] DemoRunCounts = [520, 340, 160, 55, 260, 190, 90, 40, 310, 120, 30, 70];

    static async Task<User> EnsureUserAsync(AppDbContext db, OrganizationFactory factory, IPasswordHasher<User> hasher, string email, string name, DateTime now, CancellationToken ct)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Email == email, ct);
        if (user is not null)
        {
            return user;
        }
        user = new User { Email = email, Name = name, CreatedUtc = now };
        user.PasswordHash = hasher.HashPassword(user, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        db.Users.Add(user);
        var (organization, _) = await factory.CreateAsync(db, $"{name}'s Organization", user.Id, ct);
        await db.SaveChangesAsync(ct);
        await factory.CommittedAsync(organization, ct);
        return user;
    }
}
