namespace AgentMarket.Platform.Ui;

/// <summary>White-label branding, bound from the <c>Branding</c> section (SPEC §9 defaults).</summary>
public sealed class BrandingOptions
{
    public string SiteName { get; set; } = "Digitlify CMP";
    public string Tagline { get; set; } = "The AI Agent Marketplace";

    /// <summary>A CSS hex color such as <c>#7c3aed</c>; anything else falls back to the default.</summary>
    public string BrandColor { get; set; } = "#7c3aed";
    public string FooterText { get; set; } = "Simplify IT. Amplify IT. Digitlify IT.";
    public string? LogoUrl { get; set; }
    public string? FaviconUrl { get; set; }

    /// <summary>Where people write when something goes wrong: the footer and the error page name it. None by default.</summary>
    public string? SupportEmail { get; set; }

    public string SafeBrandColor =>
        System.Text.RegularExpressions.Regex.IsMatch(BrandColor, "^#[0-9a-fA-F]{6}$") ? BrandColor : "#7c3aed";
}
