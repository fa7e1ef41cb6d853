namespace AgentMarket.Usage.Pages;

/// <summary>Why a run's tokens, and so a per-token charge, are not the model endpoint's own figures (ADR-164, ADR-172), in the buyer's words.</summary>
static class UsageSourceNote
{
    public const string Bounded =
        "Bounded: the model endpoint reported more tokens than the text sent and received can hold (or more hidden reasoning than the call allowed), or fewer than an estimate of that text, so the platform held its counts to those bounds.";

    public const string Estimated =
        "Estimated: the model endpoint reported no token counts, so the platform estimated them from the text (about one token per 4 characters).";
}
