using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentMarket.Platform.Errors;

/// <summary>Builds RFC 9457 problem results with a stable <c>code</c>, for handlers that return expected failures as values.</summary>
public static class ApiProblem
{
    public static ProblemHttpResult Create(int status, string code, string detail, IDictionary<string, object?>? extensions = null)
    {
        var all = new Dictionary<string, object?>(StringComparer.Ordinal) { ["code"] = code };
        if (extensions is not null)
        {
            foreach (var (key, value) in extensions)
            {
                all[key] = value;
            }
        }
        return TypedResults.Problem(detail: detail, statusCode: status, extensions: all);
    }

    public static ProblemHttpResult NotFound(string what = "resource") =>
        Create(StatusCodes.Status404NotFound, ProblemCodes.NotFound, $"The {what} was not found.");

    public static ProblemHttpResult Conflict(string code, string detail) => Create(StatusCodes.Status409Conflict, code, detail);

    public static ProblemHttpResult Forbidden(string code, string detail) => Create(StatusCodes.Status403Forbidden, code, detail);

    public static ProblemHttpResult BadRequest(string code, string detail) => Create(StatusCodes.Status400BadRequest, code, detail);

    /// <summary>A 400 for one invalid field, shaped like the framework's validation problems.</summary>
    public static ProblemHttpResult Invalid(string field, string message) =>
        Create(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "One or more fields are invalid.",
            new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } });
}
