using System.Text;
using System.Text.Json;
using CausalEval.Reporting.Input;

namespace CausalEval.Reporting.Tests.Input;

public class TranscriptSamplerTests
{
    private static byte[] Json(string episode, string model, int epoch, string text = "x")
        => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { trial_id = $"{episode}/{model}/{epoch}", episode, model, epoch, text }));

    private static List<string> Kept(TranscriptSampler sampler)
        => [.. sampler.Result().Trials.Select(t => JsonDocument.Parse(t).RootElement.GetProperty("trial_id").GetString()!)];

    [Fact]
    public void The_same_episodes_are_kept_whatever_the_order_of_lines()
    {
        var offers = Enumerable.Range(0, 300).SelectMany(e => new[] { "m1", "m2" }.Select(m => ($"ep-{e}", m))).ToList();
        var forward = new TranscriptSampler(taskCount: 1);
        var backward = new TranscriptSampler(taskCount: 1);
        foreach (var (episode, model) in offers)
        {
            forward.Offer("t", episode, new EntryKey(model, null, null), 1, 0, Json(episode, model, 1));
        }
        foreach (var (episode, model) in Enumerable.Reverse(offers))
        {
            backward.Offer("t", episode, new EntryKey(model, null, null), 1, 0, Json(episode, model, 1));
        }

        Assert.Equal(Kept(forward), Kept(backward));
        Assert.Equal(2 * TranscriptSampler.EpisodesPerTask, Kept(forward).Count);
        Assert.Equal(TranscriptSampler.EpisodesPerTask, forward.Result().EpisodesKept["t"]);
    }

    [Fact]
    public void Each_entry_keeps_its_first_epoch()
    {
        var sampler = new TranscriptSampler(taskCount: 1);
        var entry = new EntryKey("m", "few-shot", "letters");
        sampler.Offer("t", "e", entry, 2, 0, Json("e", "m", 2));
        sampler.Offer("t", "e", entry, 1, 0, Json("e", "m", 1));
        sampler.Offer("t", "e", entry, 3, 0, Json("e", "m", 3));

        Assert.Equal(["e/m/1"], Kept(sampler));
    }

    [Fact]
    public void Long_strings_are_cut_and_marked()
    {
        var compact = TranscriptSampler.Compact(Json("e", "m", 1, new string('y', TranscriptSampler.MaxStringChars + 5)));

        var text = JsonDocument.Parse(compact).RootElement.GetProperty("text").GetString()!;
        Assert.StartsWith(new string('y', TranscriptSampler.MaxStringChars) + "… [cut: 5 more characters", text, StringComparison.Ordinal);
        Assert.Equal("e/m/1", JsonDocument.Parse(compact).RootElement.GetProperty("trial_id").GetString());
    }

    [Fact]
    public void A_task_past_its_byte_budget_keeps_fewer_episodes_but_at_least_one()
    {
        // One task with huge transcripts: 12 MB / 1 task; each trial ≈ 20 kB × 3 strings... keep adding until the budget binds.
        var sampler = new TranscriptSampler(taskCount: 1);
        var big = new string('z', TranscriptSampler.MaxStringChars);
        for (var e = 0; e < 25; e++)
        {
            for (var m = 0; m < 40; m++)
            {
                sampler.Offer("t", $"ep-{e}", new EntryKey($"m{m}", null, null), 1, 0, Json($"ep-{e}", $"m{m}", 1, big));
            }
        }

        var (trials, kept) = sampler.Result();
        Assert.InRange(kept["t"], 1, 24);
        Assert.True(trials.Sum(t => (long)t.Length) <= TranscriptSampler.MaxTotalBytes);
    }
}
