using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentMarket.Tests.Infrastructure;

/// <summary>
/// The app under test, on its own database, reached over HTTP. Tests speak through intent methods (sign up, get a
/// token...) rather than services. Subclass and override <see cref="ExtraSettings"/> for a differently configured app.
/// </summary>
public class AgentMarketApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string OperatorEmail = "operator@tests.example";
    public const string OperatorPassword = "operator-password-1";
    public const string DefaultPassword = "correct horse battery";

    readonly TestDatabase _database;
    readonly bool _ownsDatabase;
    int _users;

    public AgentMarketApp() : this(TestDatabase.Create(), ownsDatabase: true)
    {
    }

    /// <summary>An app on an existing database (see <see cref="AnotherProcess"/>).</summary>
    protected AgentMarketApp(TestDatabase database, bool ownsDatabase)
    {
        _database = database;
        _ownsDatabase = ownsDatabase;
    }

    public TestDatabase Database => _database;

    /// <summary>The app's clock; tests move it forward.</summary>
    public TestClock Clock { get; } = new();

    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        var settings = new Dictionary<string, string?>
        {
            ["Seed:Demo"] = "false",
            ["Admin:Email"] = OperatorEmail,
            ["Admin:Password"] = OperatorPassword,
            ["Identity:AuthRequestsPerMinute"] = "100000",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "None",
        };
        foreach (var (key, value) in _database.Settings().Concat(ExtraSettings()))
        {
            settings[key] = value;
        }
        // UseSetting wins over appsettings files and environment variables, so tests cannot pick up a developer's config.
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(settings));
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
        builder.ConfigureLogging(logging => logging.AddProvider(new TestOutputLoggerProvider()));
    }

    public virtual ValueTask InitializeAsync()
    {
        _ = Server; // start the host (runs migrations and start-up work) before the first test
        return ValueTask.CompletedTask;
    }

    public new HttpClient CreateClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true, BaseAddress = ClientOptions.BaseAddress });

    /// <summary>Signs up a new user (and organization) through the API; the returned client carries their session cookie.</summary>
    public async Task<TestUser> SignUpAsync(string? name = null)
    {
        var n = Interlocked.Increment(ref _users);
        name ??= $"User {n}";
        var email = $"user{n}-{Guid.NewGuid():N}@tests.example";
        var client = CreateClient();
        var response = await client.PostAsJsonAsync("/api/auth/signup", new { email, password = DefaultPassword, name });
        await Http.AssertStatusAsync(response, HttpStatusCode.Created);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new TestUser(this, client, email, DefaultPassword, name,
            body.GetProperty("user").GetProperty("uuid").GetGuid(),
            body.GetProperty("organization").GetProperty("uuid").GetGuid(),
            body.GetProperty("project").GetProperty("uuid").GetGuid());
    }

    /// <summary>Runs <paramref name="work"/> in a DI scope acting for <paramref name="organization"/> (or the system), as a job would.</summary>
    public async Task<T> InScopeAsync<T>(Guid? organization, Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        var tenant = scope.ServiceProvider.GetRequiredService<AgentMarket.Platform.Tenancy.CurrentTenant>();
        if (organization is { } id)
        {
            tenant.Set(id, AgentMarket.Identity.MembershipRole.Owner);
        }
        else
        {
            tenant.EnterSystemScope();
        }
        return await work(scope.ServiceProvider);
    }

    /// <summary>The configured operator, signed in with a cookie.</summary>
    public async Task<HttpClient> OperatorAsync()
    {
        var client = CreateClient();
        var response = await client.PostAsJsonAsync("/api/auth/signin", new { email = OperatorEmail, password = OperatorPassword });
        await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        return client;
    }

    /// <summary>A client with no cookie that sends <c>Authorization: Bearer</c>.</summary>
    public HttpClient BearerClient(string token)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false, BaseAddress = ClientOptions.BaseAddress });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownsDatabase)
        {
            await _database.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>A second app on the database of a first, as a restarted or second process would be.</summary>
public sealed class AnotherProcess(TestDatabase database, IEnumerable<KeyValuePair<string, string?>>? settings = null) : AgentMarketApp(database, ownsDatabase: false)
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => settings ?? [];
}

/// <summary>A signed-up user: their cookie client and the ids sign-up returned.</summary>
public sealed record TestUser(AgentMarketApp App, HttpClient Client, string Email, string Password, string Name, Guid UserId, Guid OrganizationId, Guid ProjectId)
{
    /// <summary>Creates a personal access token with the password, as a script would.</summary>
    public async Task<string> CreateTokenAsync(string name = "test", DateTime? expiresAt = null)
    {
        using var anonymous = App.CreateClient();
        var response = await anonymous.PostAsJsonAsync("/api/auth/tokens", new { email = Email, password = Password, name, expires_at = expiresAt });
        await Http.AssertStatusAsync(response, HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }
}
