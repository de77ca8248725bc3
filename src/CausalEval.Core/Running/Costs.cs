using CausalEval.Core.Episodes;

namespace CausalEval.Core.Running;

/// <summary>What a model's tokens cost: US dollars for the billed tokens of <paramref name="usage"/> (cached ones are free).</summary>
public interface ICostModel
{
    double CostUsd(string modelId, Usage usage);
}

/// <summary>
/// The run's spend against an optional cap (<c>--max-cost</c>). Each finished trial's cost is added as it finishes;
/// once the spend reaches the cap, <see cref="Token"/> is cancelled, which stops the runner scheduling new trials
/// (trials already in flight finish and are written: their calls are paid for already).
/// </summary>
public sealed class RunBudget : IDisposable
{
    private readonly CancellationTokenSource _reached = new();
    private readonly object _gate = new();
    private double _spent;

    /// <param name="maxCostUsd">The cap; null means no cap (the spend is still counted).</param>
    /// <param name="spentUsd">Spend already recorded (a resumed run's earlier trials).</param>
    public RunBudget(double? maxCostUsd, double spentUsd = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(spentUsd);
        MaxCostUsd = maxCostUsd;
        _spent = spentUsd;
        Check();
    }

    public double? MaxCostUsd { get; }

    public double SpentUsd
    {
        get
        {
            lock (_gate)
            {
                return _spent;
            }
        }
    }

    /// <summary>True once the spend has reached the cap.</summary>
    public bool Reached => _reached.IsCancellationRequested;

    /// <summary>Cancelled when the spend reaches the cap.</summary>
    public CancellationToken Token => _reached.Token;

    /// <summary>Adds a trial's cost. Spend never decreases: a negative or non-finite cost is a bug upstream, refused here.</summary>
    public void Add(double costUsd)
    {
        if (!(costUsd >= 0 && double.IsFinite(costUsd)))
        {
            throw new ArgumentOutOfRangeException(nameof(costUsd), costUsd, "a cost is a finite number of US dollars ≥ 0");
        }
        lock (_gate)
        {
            _spent += costUsd;
        }
        Check();
    }

    private void Check()
    {
        if (MaxCostUsd is { } cap && SpentUsd >= cap && !_reached.IsCancellationRequested)
        {
            _reached.Cancel();
        }
    }

    public void Dispose() => _reached.Dispose();
}
