using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Infrastructure;

/// <summary>An app that sends its outbox through a fake SMTP server on loopback.</summary>
public class MailApp : AgentMarketApp
{
    readonly bool _backgroundSender = true;

    // The public address is https, so the app's cookies are Secure (ADR-165): the clients speak https, as browsers
    // behind the proxy would, or their cookie jars would keep the session cookie to themselves.
    public MailApp() => ClientOptions.BaseAddress = new Uri("https://localhost");

    MailApp(bool backgroundSender) : this() => _backgroundSender = backgroundSender;

    /// <summary>Without the background sender, a test drives each pass itself (<c>OutboxMailer.RunOnceAsync</c>).</summary>
    public static MailApp WithoutBackgroundSender() => new(backgroundSender: false);

    public FakeSmtpServer Smtp { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        Smtp.AppSettings().Append(new("Mail:SenderEnabled", _backgroundSender ? "true" : "false")).Append(new("Marketplace:PublicUrl", PublicUrl));

    /// <summary>Emails to <paramref name="recipient"/> in the outbox, sent or not.</summary>
    public Task<int> OutboxCountAsync(string recipient) =>
        InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails.CountAsync(e => e.Recipient == recipient));

    /// <summary>The address emailed links use (password resets need one: ADR-124).</summary>
    public const string PublicUrl = "https://market.test";

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Smtp.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The browser app, sending its outbox through a fake SMTP server on loopback.</summary>
public sealed class MailBrowserApp : BrowserApp
{
    public FakeSmtpServer Smtp { get; } = new();

    /// <summary>
    /// The address emailed links use, as a proxy's in front of this server; tests follow them to <see cref="BrowserApp.BaseUrl"/>.
    /// Plain http like the server itself: an https one would make the cookies Secure (ADR-165), which the intents'
    /// clients, speaking http to Kestrel, would not send back.
    /// </summary>
    public const string PublicUrl = "http://market.test";

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => Smtp.AppSettings().Append(new("Marketplace:PublicUrl", PublicUrl));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Smtp.DisposeAsync();
    }
}
