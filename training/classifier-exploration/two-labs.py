# Exploration (issue 5): does a second labelled lab help? Forests on Acevedo-20's training split plus every labelled
# cell of one target lab (weighted to count as much as Acevedo-20's), scored on the other target and on Acevedo-20's
# held-out split; 'raw' values, or each lab's stain columns centred on its own median.
# Usage: DUMP=/tmp/dump /usr/bin/python3 training/classifier-exploration/two-labs.py
import os, re, numpy as np, pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
D = pd.read_csv(os.path.join(os.environ.get('DUMP', '/tmp/dump'), 'cells.csv'))
names = list(D.columns[list(D.columns).index('nucleus_fraction'):])
stain = np.array([bool(re.search('chroma|density|texture', n)) for n in names])
X = D[names].to_numpy(float); y = D['label'].to_numpy(); dom = D['domain'].to_numpy()
for seed in range(3):
    src = np.where(dom == 'acevedo20')[0]
    tr, te = train_test_split(src, test_size=0.2, stratify=y[src], random_state=seed)
    out = {}
    for other, target in [('bccd', 'zheng-ds2'), ('zheng-ds2', 'bccd')]:
        o = np.where(dom == other)[0]; t = np.where(dom == target)[0]
        # each lab centred on its own median (stain columns), as a per-lab normalisation when labs are pooled
        Xc = X.copy()
        for d in ['acevedo20', other, target]:
            m = dom == d; Xc[np.ix_(m, stain)] -= np.median(X[np.ix_(m, stain)], 0)
        for name, XX in [('raw', X), ('centred', Xc)]:
            idx = np.concatenate([tr, o])
            w = np.where(dom[idx] == other, len(tr) / len(o), 1.0)  # the second lab weighs as much as the first
            rf = RandomForestClassifier(100, max_depth=16, random_state=seed, n_jobs=2).fit(XX[idx], y[idx], sample_weight=w)
            out[f'+{other}->{target} {name}'] = round(100 * (rf.predict(XX[t]) == y[t]).mean(), 1)
            out[f'+{other}->ace {name}'] = round(100 * (rf.predict(XX[te]) == y[te]).mean(), 1)
    print(seed, out)
