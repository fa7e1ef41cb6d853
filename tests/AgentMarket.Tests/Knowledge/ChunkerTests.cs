using AgentMarket.Knowledge.Extraction;
using AgentMarket.Knowledge.Indexing;

namespace AgentMarket.Tests.Knowledge;

/// <summary>Chunks of about a thousand characters on paragraph boundaries, overlapping, titled by their section.</summary>
public class ChunkerTests
{
    static string Paragraph(int number, int sentences) =>
        string.Join(" ", Enumerable.Range(0, sentences).Select(s => $"Paragraph {number} sentence {s} talks about topic{number}x{s}."));

    [Fact]
    public void ShortText_IsOneChunk_Unchanged()
    {
        var chunk = Assert.Single(Chunker.Split([new TextBlock("Just one line.")], documentTitle: "Q?"));
        Assert.Equal(new TextChunk("Just one line.", "Q?"), chunk);
    }

    [Fact]
    public void LongText_MakesBoundedOverlappingChunks_AndLosesNoWord()
    {
        var blocks = Enumerable.Range(0, 40).Select(i => new TextBlock(Paragraph(i, 1 + (i % 7)))).ToList();

        var chunks = Chunker.Split(blocks, documentTitle: null);

        Assert.True(chunks.Count > 5);
        Assert.All(chunks, c => Assert.InRange(c.Text.Length, 1, Chunker.MaxCharacters));
        Assert.All(chunks.SkipLast(1), c => Assert.True(c.Text.Length >= 700, $"a {c.Text.Length}-character chunk before the last"));
        for (var i = 1; i < chunks.Count; i++)
        {
            var previousEnd = chunks[i - 1].Text[^40..];
            Assert.True(chunks[i].Text.Contains(previousEnd, StringComparison.Ordinal), $"chunk {i} does not repeat the end of chunk {i - 1}");
        }
        var words = blocks.SelectMany(b => b.Text.Split(' ')).ToHashSet();
        var chunked = chunks.SelectMany(c => c.Text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        Assert.Empty(words.Except(chunked));
    }

    [Fact]
    public void Paragraphs_StayWhole_WhenTheyFit()
    {
        var blocks = Enumerable.Range(0, 12).Select(i => new TextBlock(Paragraph(i, 4))).ToList();

        var chunks = Chunker.Split(blocks, documentTitle: null);

        foreach (var block in blocks)
        {
            Assert.Contains(chunks, c => c.Text.Contains(block.Text, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Headings_StartChunks_AndTitleThem_WithoutCarryingTheOtherSectionsText()
    {
        TextBlock[] blocks =
        [
            new("Guide", IsHeading: true),
            new("Shipping", IsHeading: true),
            new("We ship daily."),
            new("Returns", IsHeading: true),
            new("Return within 30 days."),
        ];

        var chunks = Chunker.Split(blocks, documentTitle: null);

        Assert.Equal([new TextChunk("Guide\n\nShipping\n\nWe ship daily.", "Shipping"), new TextChunk("Returns\n\nReturn within 30 days.", "Returns")], chunks);
    }

    [Fact]
    public void AnUnbrokenRun_IsCut_NeverBetweenTheHalvesOfACharacter()
    {
        var emoji = string.Concat(Enumerable.Repeat("😀", 3_000));

        var chunks = Chunker.Split([new TextBlock(emoji)], documentTitle: null);

        Assert.All(chunks, c => Assert.InRange(c.Text.Length, 1, Chunker.MaxCharacters));
        Assert.All(chunks, c => Assert.False(char.IsLowSurrogate(c.Text[0]) || char.IsHighSurrogate(c.Text[^1])));
        Assert.Equal(emoji, string.Concat(chunks.Select(c => c.Text)));
    }
}
