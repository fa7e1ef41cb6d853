using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using AgentMarket.Audit;
using AgentMarket.Catalog;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

public sealed record CreateCategoryRequest(
    [property: Required, MinLength(1), MaxLength(60)] string Slug,
    [property: Required, MinLength(1), MaxLength(100)] string Name,
    [property: MaxLength(60)] string? Icon,
    int? SortOrder);
public sealed record UpdateCategoryRequest([property: MinLength(1), MaxLength(100)] string? Name, [property: MaxLength(60)] string? Icon, int? SortOrder);
public sealed record AdminCategoryResponse(Guid Uuid, string Slug, string Name, string? Icon, int SortOrder, int ListingsCount);

/// <summary>Operators manage the catalog's categories: add, rename, reorder, change the icon. Every change is audited.</summary>
static partial class CategoryAdminEndpoints
{
    public static void MapCategoryAdmin(this IEndpointRouteBuilder routes)
    {
        var categories = routes.MapGroup("/api/admin/categories").WithTags("Admin");
        categories.MapGet("/", ListAsync).WithName("AdminListCategories").RequireOperator();
        categories.MapPost("/", CreateAsync).WithName("AdminCreateCategory").RequireOperator();
        categories.MapPatch("/{uuid:guid}", UpdateAsync).WithName("AdminUpdateCategory").RequireOperator();
    }

    static async Task<IResult> ListAsync(AppDbContext db, CurrentTenant tenant, CancellationToken ct)
    {
        tenant.EnterSystemScope(); // counts every organization's listings
        return TypedResults.Ok(await db.Categories.AsNoTracking().OrderBy(c => c.SortOrder).ThenBy(c => c.Name)
            .Select(c => new AdminCategoryResponse(c.Id, c.Slug, c.Name, c.Icon, c.SortOrder, db.Listings.Count(l => l.CategoryId == c.Id)))
            .ToListAsync(ct));
    }

    static async Task<IResult> CreateAsync(CreateCategoryRequest request, AppDbContext db, AuditLog audit, CancellationToken ct)
    {
        var slug = request.Slug.Trim().ToLowerInvariant();
        if (!SlugPattern().IsMatch(slug))
        {
            return ApiProblem.Invalid("slug", "Use lower-case letters, digits and dashes.");
        }
        if (await db.Categories.AnyAsync(c => c.Slug == slug, ct))
        {
            return ApiProblem.Conflict("category_exists", "A category with this slug exists.");
        }
        var sortOrder = request.SortOrder ?? (await db.Categories.MaxAsync(c => (int?)c.SortOrder, ct) ?? 0) + 1;
        var category = new Category { Slug = slug, Name = request.Name.Trim(), Icon = Blank(request.Icon), SortOrder = sortOrder };
        db.Categories.Add(category);
        audit.Record(AuditActions.CategoryChanged, null, "category", category.Id, after: new { category.Slug, category.Name, category.Icon, category.SortOrder });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/admin/categories/{category.Id}", new AdminCategoryResponse(category.Id, category.Slug, category.Name, category.Icon, category.SortOrder, 0));
    }

    static async Task<IResult> UpdateAsync(Guid uuid, UpdateCategoryRequest request, AppDbContext db, AuditLog audit, CancellationToken ct)
    {
        var category = await db.Categories.FirstOrDefaultAsync(c => c.Id == uuid, ct);
        if (category is null)
        {
            return ApiProblem.NotFound("category");
        }
        var before = new { category.Name, category.Icon, category.SortOrder };
        category.Name = request.Name?.Trim() ?? category.Name;
        category.Icon = request.Icon is null ? category.Icon : Blank(request.Icon);
        category.SortOrder = request.SortOrder ?? category.SortOrder;
        audit.RecordChanges(AuditActions.CategoryChanged, null, "category", category.Id, before, new { category.Name, category.Icon, category.SortOrder });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new AdminCategoryResponse(category.Id, category.Slug, category.Name, category.Icon, category.SortOrder,
            await db.Listings.IgnoreQueryFilters().CountAsync(l => l.CategoryId == category.Id, ct)));
    }

    static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex SlugPattern();
}
