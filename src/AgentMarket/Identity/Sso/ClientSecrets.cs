using Microsoft.AspNetCore.DataProtection;

namespace AgentMarket.Identity.Sso;

/// <summary>Identity providers' client secrets, encrypted at rest with Data Protection (keys shared by replicas through the database).</summary>
public sealed class ClientSecrets(IDataProtectionProvider protection)
{
    const string Purpose = "AgentMarket.Identity.Sso.ClientSecret";

    readonly IDataProtector _protector = protection.CreateProtector(Purpose);

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
