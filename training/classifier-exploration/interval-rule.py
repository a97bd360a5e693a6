"""The confidence check judged by its estimate's interval instead of the estimate (docs/self-check.md, "The estimate's
interval"): on docs/unseen-labs.md's rows (docs/unseen-labs.json, the default step), how many labs under 75 % would
pass silently and how many at 75 % or more would fail, when the check fails under 84 % on the ATC estimate itself (the
product), on its Wilson interval's lower end, or on its upper end. The other checks as they ran; three warnings fail.

    /usr/bin/python3 training/classifier-exploration/interval-rule.py [docs/unseen-labs.json]
"""
import json, math, sys

FAIL, WARN, WARNINGS_FAIL = 0.84, 0.93, 3


def wilson(k, n, z=1.959964):
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def fails(s, rule):
    a, n = s['estimates']['atc_max'], s['n']
    lo, hi = wilson(round(a * n), n)
    v = {'estimate': a, 'lower end': lo, 'upper end': hi}[rule]
    conf = 'failed' if v < FAIL else 'warning' if v < WARN else 'passed'
    return s['otherChecksFailed'] or conf == 'failed' or s.get('otherWarnings', 0) + (conf == 'warning') >= WARNINGS_FAIL


page = json.load(open(sys.argv[1] if len(sys.argv) > 1 else 'docs/unseen-labs.json'))
step = page['rule']['chosen']  # the default (the rule over forest seeds), not seed 0's pick
rows = [s for s in page['scores'] if s['step'] == step]
name = lambda s: f"{s['trainedOn']} -> {s['lab']} ({100 * s['accuracy']:.1f} %, {s['role']})"
fine = [s for s in rows if s['accuracy'] >= 0.75]
print(f"{len(rows)} labs with the {step} step; {len(fine)} at 75 % or more (in-domain included)\n")
print('| the check fails under 84 % on | labs under 75 % that pass | labs at 75 % or more that fail |')
print('| --- | --- | --- |')
for rule in ('estimate', 'lower end', 'upper end'):
    miss = [name(s) for s in rows if s['accuracy'] < 0.75 and not fails(s, rule)]
    alarm = [name(s) for s in rows if s['accuracy'] >= 0.75 and fails(s, rule)]
    print(f"| {rule} | {len(miss)}{': ' + '; '.join(miss) if miss else ''} | {len(alarm)} of {len(fine)}: {'; '.join(alarm)} |")
