using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Identity;

/// <summary>
/// Creates the first operator from <c>Admin:Email</c>/<c>Admin:Password</c> at start-up, or promotes that user if they
/// already signed up and their password is the configured one: anyone can sign up with an address before an operator
/// configures it, and must not become the operator with a password of their own. An account that is already an operator
/// is left as it is (its password may have changed since). Without configuration, the one-time <c>/setup</c> page does
/// the same.
/// </summary>
sealed class OperatorBootstrap(IServiceScopeFactory scopes, IOptions<AdminOptions> admin, ILogger<OperatorBootstrap> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (admin.Value.Email is not { Length: > 0 } email || admin.Value.Password is not { Length: > 0 } password)
        {
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var operators = scope.ServiceProvider.GetRequiredService<Operators>();
        if (await operators.IsOperatorAsync(email, cancellationToken))
        {
            return;
        }
        var failure = await operators.EnsureAsync(email, password, "Operator", verifyExistingPassword: true, cancellationToken);
        if (failure is { Code: ProblemCodes.InvalidCredentials or ProblemCodes.AccountLocked })
        {
            // Not a reason to stop the marketplace: whoever holds the address would otherwise keep it down.
            logger.LogError("Admin:Email names an existing account whose password is not Admin:Password; it was not made an operator. " +
                "Sign in as that account and change its password to the configured one, or configure another address");
            return;
        }
        if (failure is not null)
        {
            throw new InvalidOperationException($"Admin:Email/Admin:Password cannot create the operator: {failure.Message}");
        }
        logger.LogInformation("Operator account ensured from configuration");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Operator accounts: the configured first operator and the one-time set-up page.</summary>
public sealed class Operators(AppDbContext db, Accounts accounts, Audit.AuditLog audit)
{
    public Task<bool> AnyAsync(CancellationToken ct) => db.Users.AnyAsync(u => u.IsOperator, ct);

    public Task<bool> IsOperatorAsync(string email, CancellationToken ct)
    {
        var normalized = User.NormalizeEmail(email);
        return db.Users.AnyAsync(u => u.Email == normalized && u.IsOperator, ct);
    }

    /// <summary>
    /// Creates the user (with their own organization, as at sign-up) or promotes the existing one, which the set-up page
    /// and the configuration both prove with its password.
    /// </summary>
    public async Task<Accounts.Failure?> EnsureAsync(string email, string password, string name, bool verifyExistingPassword, CancellationToken ct)
    {
        var normalized = User.NormalizeEmail(email);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Email == normalized, ct);
        if (user is not null && verifyExistingPassword)
        {
            var (verified, failure) = await accounts.VerifyPasswordAsync(email, password, ct);
            if (failure is not null)
            {
                return failure;
            }
            user = verified!;
        }
        if (user is null)
        {
            var (result, failure) = await accounts.SignUpAsync(email, password, name, ct);
            if (failure is not null)
            {
                return failure;
            }
            user = result!.User;
        }
        if (!user.IsOperator)
        {
            user.IsOperator = true;
            audit.Record(Audit.AuditActions.OperatorGranted, null, "user", user.Id, before: new { is_operator = false }, after: new { is_operator = true });
            await db.SaveChangesAsync(ct);
        }
        return null;
    }
}
