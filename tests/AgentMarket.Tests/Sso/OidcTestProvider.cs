using System.Diagnostics;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Sso;

/// <summary>A client registered at the test IdP; <paramref name="Tamper"/> is none, signature, issuer or nonce (see node/idp.mjs).</summary>
public sealed record OidcClient(string ClientId, string ClientSecret, string Tamper = "none");

/// <summary>An account at the test IdP, signed in with any password under its login name.</summary>
public sealed record OidcAccount(string Email, bool EmailVerified, string Name);

/// <summary>
/// npm <c>oidc-provider</c> (a certified OpenID Connect provider) in a node process on 127.0.0.1, started for the test
/// with its clients and accounts; it stops when disposed (its stdin closes).
/// </summary>
public sealed class OidcTestProvider : IAsyncDisposable
{
    readonly Process _node;
    readonly Task<string> _errors;

    OidcTestProvider(Process node, string issuer)
    {
        _node = node;
        Issuer = issuer;
        _errors = node.StandardError.ReadToEndAsync();
    }

    public string Issuer { get; }

    public static async Task<OidcTestProvider> StartAsync(string redirectUri, IEnumerable<OidcClient> clients, IReadOnlyDictionary<string, OidcAccount> accounts)
    {
        var start = new ProcessStartInfo("node", "idp.mjs")
        {
            WorkingDirectory = Path.Combine(Repo.Root, "tests", "AgentMarket.Tests", "Sso", "node"),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var node = Process.Start(start)!;
        var config = new
        {
            redirect_uri = redirectUri,
            clients = clients.Select(c => new { client_id = c.ClientId, client_secret = c.ClientSecret, tamper = c.Tamper }),
            accounts = accounts.ToDictionary(a => a.Key, a => new { email = a.Value.Email, email_verified = a.Value.EmailVerified, name = a.Value.Name }),
        };
        await node.StandardInput.WriteLineAsync(JsonSerializer.Serialize(config));
        await node.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await node.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null)
        {
            throw new InvalidOperationException("oidc-provider did not start: " + await node.StandardError.ReadToEndAsync(timeout.Token));
        }
        return new OidcTestProvider(node, JsonDocument.Parse(line).RootElement.GetProperty("issuer").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        _node.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _node.Kill();
        }
        await _errors;
        _node.Dispose();
    }
}
