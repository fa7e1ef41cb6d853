using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Webhooks;

/// <summary>
/// Bound from the <c>Webhooks</c> section. Every key has a default, so a self-host needs none of them. Which addresses
/// webhooks may reach is not set here: deliveries pass the same outbound guard as flows, so private and loopback
/// receivers need <c>Flows:OutboundAllowList</c> (and only such allowed receivers may use plain <c>http://</c>).
/// </summary>
public sealed class WebhooksOptions : IValidatableObject
{
    /// <summary>
    /// Run the dispatcher in this process. Turn it off on replicas that should only serve requests; at least one replica
    /// must keep it on. Several may: they share the work through claims in the database.
    /// </summary>
    public bool DispatcherEnabled { get; set; } = true;

    /// <summary>How often the dispatcher looks for new events and due deliveries.</summary>
    [Range(1, 3600)]
    public int PollIntervalSeconds { get; set; } = 2;

    /// <summary>Time an endpoint has to answer one delivery, connection included.</summary>
    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// How long a dispatcher owns a delivery it claimed. A delivery still being sent after this (its process died) is
    /// claimed again; it must exceed <see cref="TimeoutSeconds"/> so a slow but live attempt is never sent twice.
    /// </summary>
    [Range(2, 3600)]
    public int LeaseSeconds { get; set; } = 60;

    /// <summary>Deliveries sent at the same time by one dispatcher.</summary>
    [Range(1, 256)]
    public int MaxConcurrentDeliveries { get; set; } = 8;

    /// <summary>Endpoints one organization may have.</summary>
    [Range(1, 1000)]
    public int MaxEndpointsPerOrganization { get; set; } = 20;

    /// <summary>First retry delay; each further retry waits twice as long (with jitter), up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(1, 86_400)]
    public int RetryBaseSeconds { get; set; } = 10;

    /// <summary>The longest wait between two attempts of one delivery.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Attempts of one delivery before it is given up (about 29 hours with the default delays).</summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 15;

    /// <summary>An endpoint is disabled once this many attempts in a row have failed…</summary>
    [Range(1, 100_000)]
    public int DisableAfterConsecutiveFailures { get; set; } = 20;

    /// <summary>…and it has not had one success for this long (both must hold).</summary>
    public TimeSpan DisableAfterFailingFor { get; set; } = TimeSpan.FromDays(5);

    /// <summary>After a secret rotation, deliveries carry a signature with the previous secret too, for this long.</summary>
    [Range(0, 720)]
    public int SecretRotationGraceHours { get; set; } = 24;

    /// <summary>Dispatched events and their delivery log are deleted after this many days.</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 30;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LeaseSeconds <= TimeoutSeconds)
        {
            yield return new ValidationResult("Webhooks:LeaseSeconds must be greater than Webhooks:TimeoutSeconds.", [nameof(LeaseSeconds)]);
        }
        if (MaxRetryDelay < TimeSpan.FromSeconds(RetryBaseSeconds))
        {
            yield return new ValidationResult("Webhooks:MaxRetryDelay must be at least Webhooks:RetryBaseSeconds.", [nameof(MaxRetryDelay)]);
        }
        if (DisableAfterFailingFor < TimeSpan.Zero)
        {
            yield return new ValidationResult("Webhooks:DisableAfterFailingFor cannot be negative.", [nameof(DisableAfterFailingFor)]);
        }
    }
}
