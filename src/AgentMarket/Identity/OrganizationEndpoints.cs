using System.ComponentModel.DataAnnotations;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Identity;

public sealed record OrganizationDetails(Guid Uuid, string Name, DateTime Created, MembershipRole Role, int MembersCount, int ProjectsCount);
public sealed record OrganizationRequest([property: Required, MinLength(1), MaxLength(200)] string Name);
public sealed record ProjectResponse(Guid Uuid, string Name, string? Description, bool IsDefault, DateTime Created);
public sealed record CreateProjectRequest([property: Required, MinLength(1), MaxLength(200)] string Name, [property: MaxLength(2000)] string? Description);
public sealed record UpdateProjectRequest([property: MinLength(1), MaxLength(200)] string? Name, [property: MaxLength(2000)] string? Description);
public sealed record MemberResponse(Guid Uuid, UserResponse User, MembershipRole Role, DateTime Joined);
public sealed record UpdateMemberRequest([property: Required] MembershipRole? Role);

static class OrganizationEndpoints
{
    public static void MapOrganizations(this IEndpointRouteBuilder routes)
    {
        var organizations = routes.MapGroup("/api/organizations").WithTags("Organizations");
        organizations.MapGet("/", ListMineAsync).WithName("ListOrganizations").RequireUser();
        organizations.MapPost("/", CreateAsync).WithName("CreateOrganization").RequireUser();
        organizations.MapGet("/{uuid:guid}", GetAsync).WithName("GetOrganization").RequireOrganization(fromRouteParameter: "uuid");
        organizations.MapPatch("/{uuid:guid}", RenameAsync).WithName("UpdateOrganization").RequireOrganization(MembershipRole.Owner, "uuid");

        var projects = routes.MapGroup("/api/projects").WithTags("Organizations");
        projects.MapGet("/", ListProjectsAsync).WithName("ListProjects").RequireOrganization();
        projects.MapPost("/", CreateProjectAsync).WithName("CreateProject").RequireOrganization(MembershipRole.Manager);
        projects.MapGet("/{uuid:guid}", GetProjectAsync).WithName("GetProject").RequireOrganization();
        projects.MapPatch("/{uuid:guid}", UpdateProjectAsync).WithName("UpdateProject").RequireOrganization(MembershipRole.Manager);
        projects.MapDelete("/{uuid:guid}", DeleteProjectAsync).WithName("DeleteProject").RequireOrganization(MembershipRole.Manager);

        var members = routes.MapGroup("/api/members").WithTags("Organizations");
        members.MapGet("/", ListMembersAsync).WithName("ListMembers").RequireOrganization();
        members.MapPatch("/{uuid:guid}", ChangeRoleAsync).WithName("UpdateMember").RequireOrganization(MembershipRole.Owner);
        members.MapDelete("/{uuid:guid}", RemoveMemberAsync).WithName("RemoveMember").RequireOrganization();
    }

    static async Task<Ok<List<MyOrganization>>> ListMineAsync(CurrentTenant tenant, AppDbContext db, CancellationToken ct)
    {
        var userId = tenant.UserId;
        var list = await db.Memberships.AsNoTracking().Where(m => m.UserId == userId).OrderBy(m => m.CreatedUtc)
            .Select(m => new MyOrganization(m.OrganizationId, m.Organization!.Name, m.Role, db.Providers.Any(p => p.OrganizationId == m.OrganizationId)))
            .ToListAsync(ct);
        return TypedResults.Ok(list);
    }

    static async Task<Created<OrganizationDetails>> CreateAsync(OrganizationRequest request, CurrentTenant tenant, AppDbContext db, OrganizationFactory factory, CancellationToken ct)
    {
        var (organization, _) = await factory.CreateAsync(db, request.Name.Trim(), tenant.UserId!.Value, ct);
        await db.SaveChangesAsync(ct);
        await factory.CommittedAsync(organization, ct);
        return TypedResults.Created($"/api/organizations/{organization.Id}", new OrganizationDetails(organization.Id, organization.Name, organization.CreatedUtc, MembershipRole.Owner, 1, 1));
    }

    static async Task<IResult> GetAsync(CurrentTenant tenant, AppDbContext db, CancellationToken ct)
    {
        var id = tenant.RequiredOrganizationId;
        var details = await db.Organizations.AsNoTracking().Where(o => o.Id == id)
            .Select(o => new OrganizationDetails(o.Id, o.Name, o.CreatedUtc, tenant.Role!.Value,
                db.Memberships.Count(m => m.OrganizationId == id), db.Projects.Count()))
            .FirstOrDefaultAsync(ct);
        return details is null ? ApiProblem.NotFound("organization") : TypedResults.Ok(details);
    }

    static async Task<IResult> RenameAsync(OrganizationRequest request, CurrentTenant tenant, AppDbContext db, OrganizationSettingsChanges changes,
        HttpContext http, CancellationToken ct)
    {
        var (_, failure) = await changes.RenameAsync(request.Name, ct);
        return failure is not null ? failure.ToProblem(http) : await GetAsync(tenant, db, ct);
    }

    static async Task<Ok<Page<ProjectResponse>>> ListProjectsAsync(int? limit, int? offset, AppDbContext db, CancellationToken ct)
    {
        var query = db.Projects.AsNoTracking().OrderByDescending(p => p.IsDefault).ThenBy(p => p.Name)
            .Select(p => new ProjectResponse(p.Id, p.Name, p.Description, p.IsDefault, p.CreatedUtc));
        return TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(query, ct));
    }

    static async Task<IResult> CreateProjectAsync(CreateProjectRequest request, CurrentTenant tenant, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var name = request.Name.Trim();
        if (await db.Projects.AnyAsync(p => p.Name == name, ct))
        {
            return ApiProblem.Conflict(ProblemCodes.Conflict, "A project with this name already exists.");
        }
        var project = new Project { OrganizationId = tenant.RequiredOrganizationId, Name = name, Description = request.Description, CreatedUtc = clock.GetUtcNow().UtcDateTime };
        db.Projects.Add(project);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/projects/{project.Id}", ToResponse(project));
    }

    static async Task<IResult> GetProjectAsync(Guid uuid, AppDbContext db, CancellationToken ct) =>
        await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == uuid, ct) is { } project
            ? TypedResults.Ok(ToResponse(project))
            : ApiProblem.NotFound("project");

    static async Task<IResult> UpdateProjectAsync(Guid uuid, UpdateProjectRequest request, AppDbContext db, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == uuid, ct);
        if (project is null)
        {
            return ApiProblem.NotFound("project");
        }
        if (request.Name is { } name && name.Trim() != project.Name)
        {
            if (project.IsDefault)
            {
                return ApiProblem.Conflict(ProblemCodes.DefaultProject, "The Default project cannot be renamed.");
            }
            if (await db.Projects.AnyAsync(p => p.Name == name.Trim() && p.Id != uuid, ct))
            {
                return ApiProblem.Conflict(ProblemCodes.Conflict, "A project with this name already exists.");
            }
            project.Name = name.Trim();
        }
        if (request.Description is not null)
        {
            project.Description = request.Description;
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResponse(project));
    }

    static async Task<IResult> DeleteProjectAsync(Guid uuid, AppDbContext db, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == uuid, ct);
        if (project is null)
        {
            return ApiProblem.NotFound("project");
        }
        if (project.IsDefault)
        {
            return ApiProblem.Conflict(ProblemCodes.DefaultProject, "The Default project cannot be deleted.");
        }
        var live = await db.CustomerAgentConfigs.CountAsync(c => c.ProjectId == uuid && c.State != Subscriptions.SubscriptionState.Terminated, ct);
        if (live > 0)
        {
            return ApiProblem.Conflict(ProblemCodes.ProjectInUse,
                $"The project still holds {(live == 1 ? "an agent" : $"{live} agents")}; remove {(live == 1 ? "it" : "them")} from My Agents first.");
        }
        // Ended subscriptions and their orders keep their usage and history: they move to the Default project.
        var defaultProject = await db.Projects.Where(p => p.OrganizationId == project.OrganizationId && p.IsDefault).Select(p => p.Id).SingleAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.CustomerAgentConfigs.Where(c => c.ProjectId == uuid).ExecuteUpdateAsync(s => s.SetProperty(c => c.ProjectId, defaultProject), ct);
        await db.Orders.Where(o => o.ProjectId == uuid).ExecuteUpdateAsync(s => s.SetProperty(o => o.ProjectId, defaultProject), ct);
        db.Projects.Remove(project);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    static async Task<Ok<Page<MemberResponse>>> ListMembersAsync(int? limit, int? offset, CurrentTenant tenant, AppDbContext db, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var query = db.Memberships.AsNoTracking().Where(m => m.OrganizationId == organizationId).OrderBy(m => m.Role).ThenBy(m => m.CreatedUtc)
            .Select(m => new MemberResponse(m.Id, new UserResponse(m.UserId, m.User!.Email, m.User.Name), m.Role, m.CreatedUtc));
        return TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(query, ct));
    }

    static async Task<IResult> ChangeRoleAsync(Guid uuid, UpdateMemberRequest request, Members members, HttpContext http, CancellationToken ct)
    {
        var (membership, failure) = await members.ChangeRoleAsync(uuid, request.Role!.Value, ct);
        return failure is not null
            ? failure.ToProblem(http)
            : TypedResults.Ok(new MemberResponse(membership!.Id, new UserResponse(membership.UserId, membership.User!.Email, membership.User.Name), membership.Role, membership.CreatedUtc));
    }

    static async Task<IResult> RemoveMemberAsync(Guid uuid, Members members, HttpContext http, CancellationToken ct)
    {
        var (_, failure) = await members.RemoveAsync(uuid, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.NoContent();
    }

    static ProjectResponse ToResponse(Project p) => new(p.Id, p.Name, p.Description, p.IsDefault, p.CreatedUtc);
}
