using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Subscriptions.Pages;

/// <summary>
/// The API validates request records with their DataAnnotations before a handler runs; pages build the same records from
/// form fields and check them here, so a page accepts exactly what the API accepts.
/// </summary>
static class RequestValidation
{
    /// <summary>The first problem with <paramref name="request"/>'s annotated properties, or null when it is valid.</summary>
    public static string? Problem(object request)
    {
        var results = new List<ValidationResult>();
        return Validator.TryValidateObject(request, new ValidationContext(request), results, validateAllProperties: true)
            ? null
            : results[0].ErrorMessage;
    }
}
