using System.Runtime.CompilerServices;

namespace CausalEval.Core.Randomness;

/// <summary>
/// xoshiro256** seeded through SplitMix64. Used instead of <see cref="System.Random"/> so that every
/// stream is specified by this file alone and reproduces across runtimes and platforms.
/// Not thread-safe: give each trial its own instance.
/// </summary>
public sealed class SeededRandom
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareGaussian;
    private bool _hasSpareGaussian;

    public SeededRandom(ulong seed)
    {
        var sm = seed;
        _s0 = SplitMix64.Next(ref sm);
        _s1 = SplitMix64.Next(ref sm);
        _s2 = SplitMix64.Next(ref sm);
        _s3 = SplitMix64.Next(ref sm);
    }

    public ulong NextUInt64() => Step(ref _s0, ref _s1, ref _s2, ref _s3);

    /// <summary>One xoshiro256** output from the state (s0, s1, s2, s3), which it advances.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Step(ref ulong s0, ref ulong s1, ref ulong s2, ref ulong s3)
    {
        var result = ulong.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => UnitInterval(NextUInt64());

    /// <summary>
    /// The top 53 bits of <paramref name="bits"/> as a double in [0, 1). Converted as a long, which they fit: the same
    /// value, and without AVX-512 an unsigned conversion is a branch and several instructions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double UnitInterval(ulong bits) => (long)(bits >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, exclusiveMax), without modulo bias (Lemire's method).</summary>
    public int NextInt(int exclusiveMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveMax);
        var bound = (ulong)exclusiveMax;
        var product = Math.BigMul(NextUInt64(), bound, out var low);
        if (low < bound)
        {
            var threshold = (0 - bound) % bound;
            while (low < threshold)
            {
                product = Math.BigMul(NextUInt64(), bound, out low);
            }
        }
        return (int)product;
    }

    /// <summary>
    /// <paramref name="destination"/>.Length draws of <see cref="NextInt"/>(<paramref name="exclusiveMax"/>), in order: the
    /// same values, and the generator left in the same state, as that many calls. For bulk draws (a bootstrap resample's
    /// cluster indices): the state stays in registers and the code is optimised from the first call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void NextInts(int exclusiveMax, Span<int> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveMax);
        var bound = (ulong)exclusiveMax;
        // NextInt's rejection test, decided up front: its threshold is below the bound, so low < threshold is the whole test.
        var threshold = (0 - bound) % bound;
        ulong s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        for (var i = 0; i < destination.Length; i++)
        {
            ulong product, low;
            do
            {
                product = Math.BigMul(Step(ref s0, ref s1, ref s2, ref s3), bound, out low);
            }
            while (low < threshold);
            destination[i] = (int)product;
        }
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    /// <summary>Standard normal draw (Marsaglia polar method; the second value of each pair is kept): one of <see cref="NextGaussians"/>.</summary>
    public double NextGaussian()
    {
        Span<double> one = stackalloc double[1];
        NextGaussians(one);
        return one[0];
    }

    /// <summary>
    /// <paramref name="destination"/>.Length standard normal draws in order, the same as that many <see cref="NextGaussian"/>
    /// calls (the polar method's second value of a pair is kept for the next draw). A world's sample draws its noise here:
    /// the state stays in registers, and a pair's two values are written without a round trip through the spare.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void NextGaussians(Span<double> destination)
    {
        var i = 0;
        if (destination.Length > 0 && _hasSpareGaussian)
        {
            _hasSpareGaussian = false;
            destination[i++] = _spareGaussian;
        }
        if (i == destination.Length)
        {
            return;
        }
        ulong s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        while (true)
        {
            double u, v, s;
            do
            {
                u = 2.0 * UnitInterval(Step(ref s0, ref s1, ref s2, ref s3)) - 1.0;
                v = 2.0 * UnitInterval(Step(ref s0, ref s1, ref s2, ref s3)) - 1.0;
                s = u * u + v * v;
            }
            while (s >= 1.0 || s == 0.0);
            var factor = Math.Sqrt(-2.0 * Math.Log(s) / s);
            destination[i++] = u * factor;
            if (i == destination.Length)
            {
                _spareGaussian = v * factor;
                _hasSpareGaussian = true;
                break;
            }
            destination[i++] = v * factor;
            if (i == destination.Length)
            {
                break;
            }
        }
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}

/// <summary>SplitMix64: seeds other generators and mixes seeds together.</summary>
public static class SplitMix64
{
    public static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Derives an independent seed from a parent seed and a stream number.</summary>
    public static ulong Derive(ulong seed, ulong stream)
    {
        var state = seed ^ (stream * 0xD1B54A32D192ED03UL);
        Next(ref state);
        return Next(ref state);
    }
}
