using System.ComponentModel.DataAnnotations;
using MimeKit;

namespace AgentMarket.Platform.Mail;

/// <summary>How the SMTP connection is secured.</summary>
public enum SmtpSecurity
{
    /// <summary>Plain connection upgraded with STARTTLS, which the server must offer (port 587).</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    SslOnConnect,

    /// <summary>No TLS: only for a relay on the same host or a trusted network.</summary>
    None,
}

/// <summary>
/// Bound from the <c>Mail</c> section. Without <see cref="SmtpHost"/> nothing is sent: emails wait in the outbox, and are
/// sent once a server is configured.
/// </summary>
public sealed class MailOptions : IValidatableObject
{
    /// <summary>The SMTP server (a relay such as Postfix, or a provider's SMTP endpoint).</summary>
    public string? SmtpHost { get; set; }

    [Range(1, 65535)]
    public int SmtpPort { get; set; } = 587;

    public SmtpSecurity SmtpSecurity { get; set; } = SmtpSecurity.StartTls;

    /// <summary>Sign-in for servers that require one; the password is never logged.</summary>
    public string? SmtpUsername { get; set; }

    public string? SmtpPassword { get; set; }

    /// <summary>The sender, as <c>name &lt;address&gt;</c> or an address; required with <see cref="SmtpHost"/>.</summary>
    public string? From { get; set; }

    /// <summary>Check that the server's certificate is not revoked (needs the certificate authority's revocation lists to be reachable).</summary>
    public bool CheckCertificateRevocation { get; set; } = true;

    /// <summary>Run the sender in this process. Several replicas may: each email is claimed by one of them before it is sent.</summary>
    public bool SenderEnabled { get; set; } = true;

    /// <summary>How often the sender looks for emails to send.</summary>
    [Range(1, 3600)]
    public int PollIntervalSeconds { get; set; } = 5;

    /// <summary>Time the server has for one command (connecting included).</summary>
    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Attempts of one email before it is given up; the waits between them double from a minute, up to six hours.</summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 10;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(SmtpHost);

    static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IsConfigured)
        {
            yield break;
        }
        if (string.IsNullOrWhiteSpace(From) || !MailboxAddress.TryParse(From, out _))
        {
            yield return new ValidationResult("Mail:From must be a sender address (\"AgentMarket <no-reply@example.com>\") when Mail:SmtpHost is set.", [nameof(From)]);
        }
        if (string.IsNullOrEmpty(SmtpUsername) != string.IsNullOrEmpty(SmtpPassword))
        {
            yield return new ValidationResult("Mail:SmtpUsername and Mail:SmtpPassword go together: set both, or neither.", [nameof(SmtpUsername)]);
        }
        if (SmtpSecurity == SmtpSecurity.None && !string.IsNullOrEmpty(SmtpUsername) && !IsLoopback(SmtpHost!))
        {
            yield return new ValidationResult("Mail:SmtpSecurity None would send the SMTP password in the clear to another host: use StartTls or SslOnConnect.", [nameof(SmtpSecurity)]);
        }
    }
}
