using AgentMarket.Knowledge.Extraction;

namespace AgentMarket.Tests.Knowledge;

/// <summary>What reading a Word document may cost: the text cap bounds the copies the reader makes, not only its result.</summary>
public class DocxLimitsTests
{
    [Fact]
    public void OneHugeTextRun_IsCopiedOnlyUpToTheCap_AndMarkedTruncated()
    {
        const int cap = 100_000;
        var random = new Random(7);
        var huge = string.Create(8_000_000, random, (chars, r) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = (char)('a' + r.Next(26));
            }
        });
        using var docx = new MemoryStream(TrainingFiles.DocxWithBody($"<w:p><w:r><w:t>{huge}</w:t></w:r></w:p>"));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var text = DocxText.Extract(docx, cap);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(text.Truncated);
        Assert.Equal(huge[..cap], Assert.Single(text.Blocks).Text);
        // The XML reader and the SDK hand the run over in about three copies of it; what comes after is bounded by the cap.
        // Unbounded, the paragraph's builder, its string and their normalization double that.
        var run = huge.Length * sizeof(char);
        Assert.True(allocated < 4L * run, $"reading allocated {allocated / 1024 / 1024} MB for a {run / 1024 / 1024} MB run");
    }
}
