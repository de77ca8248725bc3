using CausalEval.Core.Inference;
using CausalEval.Core.Tasks;
using CausalEval.Core.Tests.Support;

namespace CausalEval.Core.Tests.Inference;

public class ObserverCacheTests
{
    private const string Observational = "passive-exploit-observational";

    [Theory]
    [InlineData(TaskDefinition.TestSplit)]
    [InlineData("validation")]
    public void PrecomputedFile_CoversEveryEpisodeOfTheSplitWithItsEvidenceHash(string split)
    {
        var task = Repo.Catalog.Load(Observational);
        var splitPath = Repo.Catalog.SplitPath(Observational, split);
        var entries = ObserverCache.ReadFile(ObserverCache.PrecomputedPath(splitPath)).ToDictionary(e => e.Episode, e => e.Hash, StringComparer.Ordinal);

        var episodes = TaskCatalog.ReadSplitFile(splitPath).ToList();
        Assert.Equal(episodes.Count, entries.Count);
        Assert.All(episodes, e =>
            Assert.Equal(ObserverCache.Hash(ObserverScoring.ModelFor(e, task)!, e.Options.Evidence!.Samples), entries[e.Id]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(137)]
    public void PrecomputedFile_EntryEqualsTheEngineRecomputingIt(int index)
    {
        var task = Repo.Catalog.Load(Observational);
        var episode = Repo.TestSplit(Observational)[index];
        var shipped = ObserverCache.ReadFile(ObserverCache.PrecomputedPath(Repo.TestSplitPath(Observational)))
            .Single(e => e.Episode == episode.Id).Summary;

        var model = ObserverScoring.ModelFor(episode, task)!;
        var recomputed = IdealObserver.Infer(model, episode.Options.Evidence!.Samples, threads: 2).Summary();

        Assert.Equal(recomputed.LogEvidence, shipped.LogEvidence, 9);
        for (var i = 0; i < recomputed.ExpectedEffects.Length; i++)
        {
            Assert.Equal(recomputed.ExpectedEffects[i], shipped.ExpectedEffects[i], 12);
        }
        for (var i = 0; i < recomputed.InformationBits.Length; i++)
        {
            Assert.Equal(recomputed.InformationBits[i], shipped.InformationBits[i], 12);
        }
        // Top hypotheses can tie (sign-symmetric worlds): the shipped best is one of the recomputed ones at its probability.
        Assert.Equal(recomputed.Top[0].Probability, shipped.Top[0].Probability, 12);
        static string Key(WeightedHypothesis h) => string.Join(",", h.Edges.Select(e => $"{e.From}{e.To}{e.Weight}"));
        Assert.Contains(recomputed.Top, h => Key(h) == Key(shipped.Top[0]) && Math.Abs(h.Probability - shipped.Top[0].Probability) < 1e-12);
    }

    [Theory]
    [InlineData(TaskDefinition.TestSplit)]
    [InlineData("validation")]
    public void PrecomputedFile_WrittenAgainLineByLine_KeepsItsBytes(string split)
    {
        var path = ObserverCache.PrecomputedPath(Repo.Catalog.SplitPath(Observational, split));
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();

        var rewritten = ObserverCache.ReadFile(path).Select(e => ObserverCache.ToLine(e.Episode, e.Hash, e.Summary)).ToList();

        Assert.Equal(lines, rewritten);
    }

    [Theory]
    [InlineData("[\"A\",\"B\",1]", "[\"A\",\"B\"]", "top[0].edges[0]", "expected an edge as [from, to, weight]")]
    [InlineData("\"log_evidence\":", "\"log_evidenc\":", "log_evidenc", "unknown field (expected one of: episode, evidence, variables, expected_effects, information, log_evidence, top)")]
    [InlineData("\"probability\":0.5", "\"probability\":\"half\"", "top[0].probability", "expected a number, found string \"half\"")]
    public void PrecomputedFile_ADamagedLine_NamesFileLineAndField(string from, string to, string field, string problem)
    {
        var summary = new PosteriorSummary(["A", "B"], [0.5, -0.5], [1, 0.25], -3.5,
            [new WeightedHypothesis([new Core.Worlds.Edge("A", "B", 1)], 0.5)]);
        var line = ObserverCache.ToLine("test-0001", "abc", summary);
        Assert.Contains(from, line, StringComparison.Ordinal);
        var path = Path.Combine(Path.GetTempPath(), $"causaleval-observer-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, [line, line.Replace(from, to, StringComparison.Ordinal)]);
        try
        {
            var ex = Assert.Throws<InputException>(() => ObserverCache.ReadFile(path).ToList());

            Assert.Equal($"{path}:2", ex.Origin);
            Assert.Equal(field, ex.Field);
            Assert.Equal(problem, ex.Problem);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Posterior_AnUpdateOfACachedPrefix_EqualsInferringAtOnce()
    {
        var samples = IdealObserverTests.Draw(5, hidden: false, 0.1, 77, 0, 3);
        var model = new ObserverModel(["A", "B", "C", "D", "E"], false, 2.0 / 3.0, 0.1);
        ObserverCache.Posterior(model, samples[..2]);

        var cached = ObserverCache.Posterior(model, samples);
        var direct = IdealObserver.Infer(model, samples);

        Assert.Same(cached, ObserverCache.Posterior(model, samples));
        Assert.Equal(direct.LogEvidence, cached.LogEvidence, 9);
        Assert.Equal(direct.Summary().ExpectedEffects, cached.Summary().ExpectedEffects, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Posterior_ManyBroadPosteriors_TheCacheHoldsNoMoreThanItsBytes()
    {
        // First-sample posteriors keep about 200,000 DAGs each (27 bytes a DAG on 5 variables): twenty of them would
        // take about 120 MB, twice the cache's share. Other tests use the cache at the same time, hence the slack of a
        // few posteriors in flight.
        var model = new ObserverModel(["A", "B", "C", "D", "E"], false, 2.0 / 3.0, 0.1);
        var largest = 0L;
        for (ulong seed = 500; seed < 520; seed++)
        {
            var posterior = ObserverCache.Posterior(model, IdealObserverTests.Draw(5, hidden: false, 0.1, seed, 0, 1));
            Assert.Equal((long)posterior.Stored * (4 + 8 + 3 * 5), posterior.ResidentBytes);
            largest = Math.Max(largest, posterior.ResidentBytes);
            Assert.InRange(ObserverCache.CachedBytes, 0, ObserverCache.MaxCachedBytes + 4 * largest);
        }
        Assert.True(largest > 1 << 20, $"a first-sample posterior takes {largest:N0} bytes");
    }

    [Fact]
    public void Extend_GivenThePrefixsPosterior_EqualsTheCachedPosteriorAndAsksForThePrefixOnlyToUpdateIt()
    {
        var samples = IdealObserverTests.Draw(5, hidden: false, 0.1, 91, 0, 3);
        var model = new ObserverModel(["A", "B", "C", "D", "E"], false, 2.0 / 3.0, 0.1);
        var asked = 0;
        Posterior Prefix(int count)
        {
            asked++;
            return ObserverCache.Posterior(model, samples[..count]);
        }

        var first = ObserverCache.Extend(model, samples[..1], 0, () => Prefix(0));
        Assert.Equal(0, asked); // one sample: a pass from scratch
        var third = ObserverCache.Extend(model, samples, 0, () => Prefix(2));
        Assert.Equal(1, asked);

        foreach (var (mine, cached) in new[] { (first, ObserverCache.Posterior(model, samples[..1])), (third, ObserverCache.Posterior(model, samples)) })
        {
            Assert.Equal(cached.LogEvidence, mine.LogEvidence); // the same chain of passes and updates: bit for bit
            Assert.Equal(cached.Top(5).Select(h => h.Probability), mine.Top(5).Select(h => h.Probability));
            Assert.Equal(cached.Summary().ExpectedEffects.ToArray(), mine.Summary().ExpectedEffects.ToArray());
        }
    }
}
