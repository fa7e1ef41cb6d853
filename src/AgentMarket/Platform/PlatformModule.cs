using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Mail;
using AgentMarket.Platform.Security;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Platform.Ui;

namespace AgentMarket.Platform;

/// <summary>The cross-cutting host: data, errors, JSON, auth, tenancy, OpenAPI, UI and health.</summary>
static class PlatformModule
{
    public static void AddPlatform(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        TextCulture.ApplyToProcess();
        builder.AddData();
        // Before the auth setup, which adds Data Protection's own start-up service (it loads the key ring): the key
        // ring's check must run first, after the schema's.
        services.AddDatabaseDataProtection();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Ui.UploadLimits>();
        services.AddScoped<CurrentTenant>();
        services.AddApiProblemDetails();
        services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        services.AddValidation();
        services.AddPlatformAuth();
        services.AddAntiforgery();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, ct) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    Api.RetryAfter.Set(context.HttpContext.Response, retryAfter);
                }
                await Results.Problem(statusCode: 429, detail: ProblemCodes.RateLimitedMessage, extensions: new Dictionary<string, object?> { ["code"] = ProblemCodes.RateLimited })
                    .ExecuteAsync(context.HttpContext);
            };
        });
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new() { Title = "AgentMarket API", Version = "v1", Description = "The marketplace's REST API: snake_case JSON, RFC 9457 problems with a stable `code`." };
            return Task.CompletedTask;
        }));
        services.AddOptions<BrandingOptions>().BindConfiguration("Branding");
        services.AddOptions<MailOptions>().BindConfiguration("Mail").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<OutboxMailer>();
        services.AddHostedService(provider => provider.GetRequiredService<OutboxMailer>());
        services.AddRazorComponents();
        services.AddHealthChecks();
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
    }

    public static void UsePlatform(this WebApplication app)
    {
        app.UseTrustedProxies();
        app.UseSecurityHeaders();
        app.UseTextCulture();
        app.UseExceptionHandler();
        // API callers get problem JSON for bare status codes; browsers get the status page.
        app.UseWhen(c => AuthSetup.IsApiRequest(c.Request), api => api.UseStatusCodePages());
        app.UseWhen(c => !AuthSetup.IsApiRequest(c.Request), ui => ui.UseStatusCodePagesWithReExecute("/status/{0}", queryFormat: null, createScopeForStatusCodePages: true));
        app.UseStaticFiles();
        app.UseRouting();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        app.UseAuthentication();
        app.UseMiddleware<CurrentUserMiddleware>();
        // After authentication, which says whether the cookie is what signs the request in.
        app.UseMiddleware<CrossSiteRequestMiddleware>();
        app.UseAuthorization();
        app.UseMiddleware<EndpointAccessMiddleware>();
        app.UseRateLimiter();
        app.UseAntiforgery();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/openapi/v1.json", "AgentMarket API v1");
            o.RoutePrefix = "api/docs";
            o.DocumentTitle = "AgentMarket API reference";
        });
    }

    public static void MapPlatform(this WebApplication app)
    {
        app.MapOpenApi().AllowAnyone();
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" })).WithTags("Health").AllowAnyone().ExcludeFromDescription();
        app.MapGet("/readyz", ReadyAsync).WithTags("Health").AllowAnyone().ExcludeFromDescription();
    }

    /// <summary>Ready when the database answers and every schema script of this build is applied.</summary>
    static async Task<IResult> ReadyAsync(SchemaMigrator migrator, CancellationToken ct)
    {
        try
        {
            var pending = await migrator.PendingAsync(ct);
            return pending.Count == 0
                ? TypedResults.Ok(new { status = "ready" })
                : TypedResults.Json(new { status = "migrations_pending", pending }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (System.Data.Common.DbException)
        {
            return TypedResults.Json(new { status = "database_unreachable" }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
