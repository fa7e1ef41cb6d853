using System.Globalization;
using System.Text;

namespace AgentMarket.Catalog.Search;

/// <summary>One word of a search: matched whole (with its singular/plural twin) or, for the word being typed, as a prefix.</summary>
public sealed record SearchTerm(string Text, bool IsPrefix)
{
    /// <summary>The forms a whole word matches: "agent" also finds "agents" and "agents" also finds "agent".</summary>
    public IReadOnlyList<string> Forms => IsPlural ? [Text, Text[..^1]] : [Text, Text + "s"];

    /// <summary>What a prefix term matches from: a plural's singular, so "agents" still finds "agent" while typing.</summary>
    public string Prefix => IsPlural ? Text[..^1] : Text;

    bool IsPlural => Text.Length >= 4 && Text.EndsWith('s');
}

/// <summary>
/// Turns what a visitor typed into search terms both full-text engines understand identically. Only letters and
/// digits survive, so nothing typed can become query syntax. The index is not stemmed (a stemmed index cannot match
/// a half-typed word such as "assistan"); plural twins and the prefix on the last word cover most of what stemming would.
/// </summary>
public static class SearchTerms
{
    public const int MaxTerms = 8;
    public const int MaxTermLength = 40;

    /// <summary>The terms of <paramref name="query"/>; the last is a prefix unless the query ends with a space.</summary>
    public static IReadOnlyList<SearchTerm> Parse(string? query)
    {
        if (string.IsNullOrWhiteSpace(query))
        {
            return [];
        }
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var c in RemoveDiacritics(query))
        {
            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
            }
            else
            {
                Flush();
            }
        }
        Flush();
        var typingLastWord = !char.IsWhiteSpace(query[^1]);
        return words.Take(MaxTerms)
            .Select((w, i) => new SearchTerm(w, IsPrefix: typingLastWord && i == Math.Min(words.Count, MaxTerms) - 1 && w.Length >= 2))
            .ToList();

        void Flush()
        {
            if (word.Length > 0)
            {
                words.Add(word.Length > MaxTermLength ? word.ToString(0, MaxTermLength) : word.ToString());
                word.Clear();
            }
        }
    }

    /// <summary>An FTS5 expression requiring every term: whole words with their twin, the last as a prefix.</summary>
    public static string ToFts5(IReadOnlyList<SearchTerm> terms) => string.Join(" AND ", terms.Select(Fts5Term));

    /// <summary>An FTS5 expression requiring any of the terms.</summary>
    public static string ToFts5Any(IReadOnlyList<SearchTerm> terms) => string.Join(" OR ", terms.Select(Fts5Term));

    /// <summary>A PostgreSQL <c>to_tsquery('simple', …)</c> expression with the same meaning as <see cref="ToFts5"/>.</summary>
    public static string ToTsQuery(IReadOnlyList<SearchTerm> terms) => string.Join(" & ", terms.Select(TsTerm));

    /// <summary>The tsquery requiring any of the terms, as <see cref="ToFts5Any"/>.</summary>
    public static string ToTsQueryAny(IReadOnlyList<SearchTerm> terms) => string.Join(" | ", terms.Select(TsTerm));

    static string Fts5Term(SearchTerm t) => t.IsPrefix ? $"\"{t.Prefix}\"*" : "(" + string.Join(" OR ", t.Forms.Select(f => $"\"{f}\"")) + ")";

    static string TsTerm(SearchTerm t) => t.IsPrefix ? $"{t.Prefix}:*" : "(" + string.Join(" | ", t.Forms) + ")";

    // SQLite's tokenizer folds accents (remove_diacritics 2); folding the query the same way keeps both engines equal.
    static string RemoveDiacritics(string text)
    {
        var decomposed = text.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                builder.Append(c);
            }
        }
        return builder.ToString().Normalize(NormalizationForm.FormC);
    }
}
