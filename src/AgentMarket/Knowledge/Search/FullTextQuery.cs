using System.Text;

namespace AgentMarket.Knowledge.Search;

/// <summary>
/// Builds a full-text query from a user's natural-language question. The question is never passed as query syntax:
/// it is cut into words (letters and digits only), common English words are dropped, and each word is quoted as a
/// literal term; the terms are OR-ed so a chunk matching more of them ranks higher, and the last word also matches as
/// a prefix (the user may still be typing it). Operators, quotes, parentheses and column filters in the question are
/// just punctuation here.
/// </summary>
public sealed class FullTextQuery
{
    const int MaxTerms = 24;
    const int MaxTermLength = 64;
    const int MinPrefixLength = 3;

    // Common English words, and the pieces contractions leave once apostrophes split them ("what's" → "what", "s").
    static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "d", "ll", "m", "re", "s", "t", "ve",
        "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "being", "but", "by", "can",
        "could", "did", "do", "does", "doing", "for", "from", "had", "has", "have", "having", "he", "her", "here", "him", "his", "how",
        "i", "if", "in", "into", "is", "it", "its", "just", "me", "my", "no", "not", "of", "on", "or", "our", "please", "she", "should",
        "so", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "us", "very",
        "was", "we", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your",
    };

    FullTextQuery(IReadOnlyList<string> terms, bool lastIsPrefix)
    {
        Terms = terms;
        LastIsPrefix = lastIsPrefix;
    }

    /// <summary>Lower-cased words to search for, at most <see cref="MaxTerms"/>; empty when the question has none.</summary>
    public IReadOnlyList<string> Terms { get; }

    /// <summary>Whether the last term also matches words it starts (it ended the question and is long enough).</summary>
    public bool LastIsPrefix { get; }

    public bool IsEmpty => Terms.Count == 0;

    public static FullTextQuery From(string question)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var endsInWord = false;
        foreach (var c in question)
        {
            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
                endsInWord = true;
                continue;
            }
            AddWord(words, word);
            endsInWord = false;
        }
        AddWord(words, word);
        var terms = words.Where(w => !StopWords.Contains(w)).Distinct(StringComparer.Ordinal).Take(MaxTerms).ToList();
        var lastIsPrefix = endsInWord && terms.Count > 0 && terms[^1] == words[^1] && terms[^1].Length >= MinPrefixLength;
        return new FullTextQuery(terms, lastIsPrefix);
    }

    static void AddWord(List<string> words, StringBuilder word)
    {
        if (word.Length > 0)
        {
            words.Add(word.Length > MaxTermLength ? word.ToString(0, MaxTermLength) : word.ToString());
            word.Clear();
        }
    }

    /// <summary>An FTS5 MATCH expression: <c>"refund" OR "policy"*</c>. Terms hold no quotes, but are escaped anyway.</summary>
    public string ToSqliteMatch() =>
        string.Join(" OR ", Terms.Select((term, i) => $"\"{term.Replace("\"", "\"\"", StringComparison.Ordinal)}\"{(IsPrefix(i) ? "*" : "")}"));

    /// <summary>A <c>to_tsquery</c> input: <c>'refund' | 'policy':*</c>. Terms hold no quotes, but are escaped anyway.</summary>
    public string ToPostgresTsQuery() =>
        string.Join(" | ", Terms.Select((term, i) => $"'{term.Replace("'", "''", StringComparison.Ordinal)}'{(IsPrefix(i) ? ":*" : "")}"));

    bool IsPrefix(int index) => LastIsPrefix && index == Terms.Count - 1;
}
