using System.Reflection;
using System.Reflection.Emit;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Gpu;

/// <summary>
/// The placement (GpuService) is the only product code that takes the allocation lock: a second taker could
/// decide about GPUs or container counts on its own and reopen the double booking the lock exists to prevent.
/// Checked by reading the IL of every method (lambdas and async state machines included) in Core, the cmdlets, ds01 and ds01d.
/// </summary>
public class AllocationLockOwnerTests
{
    private static readonly MethodInfo Acquire = typeof(AllocationLock).GetMethod(nameof(AllocationLock.Acquire))!;

    private static IEnumerable<Assembly> Product() => new[]
    {
        typeof(AllocationLock).Assembly,
        Assembly.Load("Ds01.PowerShell"),
        Assembly.Load("ds01"),
        Assembly.Load("ds01d"),
    };

    [Fact]
    public void Only_the_placement_calls_AllocationLock_Acquire()
    {
        var callers = Product().SelectMany(a => Callers(a, Acquire)).ToList();
        // The scan must see the real taker, or it proves nothing.
        Assert.Contains(callers, m => Owner(m) == typeof(GpuService));
        var others = callers.Where(m => Owner(m) != typeof(GpuService)).Select(m => $"{m.DeclaringType?.FullName}.{m.Name}").ToList();
        Assert.True(others.Count == 0, "Only GpuService may take the allocation lock; also taken in: " + string.Join(", ", others));
    }

    [Fact]
    public void The_scan_finds_a_call_hidden_in_a_lambda_or_an_async_method()
    {
        var callers = Callers(typeof(AllocationLockOwnerTests).Assembly, Acquire).Select(m => Owner(m)).ToList();
        Assert.Contains(typeof(Offender), callers);
        Assert.Equal(2, Callers(typeof(AllocationLockOwnerTests).Assembly, Acquire).Count(m => Owner(m) == typeof(Offender)));
    }

    /// <summary>Code that must never ship: it takes the lock itself (never run; only scanned).</summary>
    private static class Offender
    {
        public static Func<IDisposable> Lambda(string path) => () => AllocationLock.Acquire(path, TimeSpan.FromSeconds(1));

        public static async Task AsyncTaker(string path)
        {
            await Task.Yield();
            using var l = AllocationLock.Acquire(path, TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>The outermost declared type: compiler-made closures and state machines are nested in their method's type.</summary>
    private static Type? Owner(MethodBase m)
    {
        var t = m.DeclaringType;
        while (t?.DeclaringType is not null) t = t.DeclaringType;
        // Offender is nested in this test class on purpose; stop there.
        for (var n = m.DeclaringType; n is not null; n = n.DeclaringType)
            if (n == typeof(Offender)) return n;
        return t;
    }

    private static IEnumerable<MethodBase> Callers(Assembly assembly, MethodInfo target)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        Type[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { types = e.Types.Where(t => t is not null).ToArray()!; }
        foreach (var type in types)
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            byte[]? il;
            try { il = method.GetMethodBody()?.GetILAsByteArray(); }
            catch (Exception e) when (e is BadImageFormatException or InvalidOperationException) { continue; }
            if (il is not null && CallsTarget(method, il, target)) yield return method;
        }
    }

    private static readonly Dictionary<short, OpCode> OpCodeByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    private static bool CallsTarget(MethodBase method, byte[] il, MethodInfo target)
    {
        var i = 0;
        while (i < il.Length)
        {
            short value = il[i++];
            if (value == 0xFE) value = unchecked((short)(0xFE00 | il[i++]));
            if (!OpCodeByValue.TryGetValue(value, out var op)) return false;
            switch (op.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                case OperandType.InlineMethod:
                    var token = BitConverter.ToInt32(il, i);
                    i += 4;
                    try
                    {
                        var called = method.Module.ResolveMethod(token,
                            method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null,
                            method.IsGenericMethod ? method.GetGenericArguments() : null);
                        if (called == target) return true;
                    }
                    catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or FileNotFoundException) { }
                    break;
                default: i += 4; break;
            }
        }
        return false;
    }
}
