# Exploration (issue 5): a small CNN on the dumped 128 px crops (dump-cells.mjs), at 64 px, trained on
# Acevedo-20 with optical-density normalisation and stain augmentation, scored on its held-out cells, BCCD
# and Zheng DS2. --norm batch swaps GroupNorm for BatchNorm and adds AdaBN (BatchNorm statistics re-estimated
# on each target lab's unlabelled cells). Usage: DUMP=/tmp/dump /usr/bin/python3 cnn.py [epochs] [--norm group|batch]
import numpy as np, pandas as pd, torch, torch.nn as nn, torch.nn.functional as F, time, sys, os, copy
torch.set_num_threads(2); torch.manual_seed(0); np.random.seed(0)
DUMP=os.environ.get('DUMP','/tmp/dump')
BN='--norm' in sys.argv and sys.argv[sys.argv.index('--norm')+1]=='batch'
CL=['neutrophil','lymphocyte','monocyte','eosinophil','basophil']
df=pd.read_csv(os.path.join(DUMP,'cells.csv')); dom=df.domain.values; lab=df.label.fillna('').values
C=np.memmap(os.path.join(DUMP,'crops.u8'),dtype=np.uint8,mode='r').reshape(-1,128,128,3)
X=torch.tensor(np.asarray(C)).permute(0,3,1,2).float()/255.
X=F.interpolate(X,size=64,mode='area')
y=torch.tensor([CL.index(l) if l in CL else -1 for l in lab])
S=np.where(dom=='acevedo20')[0]; rng=np.random.RandomState(0); rng.shuffle(S); te=S[:1048]; tr=S[1048:]
def aug(x):
    # optical density jitter per channel + global strength + white tint + blur + flips/rot
    od=-torch.log(x.clamp(1/255,1))
    b=x.shape[0]
    s=(0.5+torch.rand(b,1,1,1))*(0.7+0.6*torch.rand(b,3,1,1))
    x=torch.exp(-od*s)*(0.85+0.15*torch.rand(b,3,1,1))
    if torch.rand(1)<0.5:
        k=torch.tensor([1,4,6,4,1.])/16; k=(k[:,None]*k[None,:]).expand(3,1,5,5)
        x=F.conv2d(F.pad(x,(2,2,2,2),mode='replicate'),k,groups=3)
    if torch.rand(1)<0.5: x=x.flip(3)
    x=torch.rot90(x,int(torch.randint(4,(1,))),(2,3))
    return x
def norm(x):
    # per-image: optical density normalised by its own 99th percentile (stain strength cancels)
    od=-torch.log(x.clamp(1/255,1)); q=od.flatten(1).quantile(0.99,dim=1).clamp(min=0.05)[:,None,None,None]
    return od/q
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        c=[3,32,64,96,128]
        s.b=nn.ModuleList([nn.Sequential(nn.Conv2d(c[i],c[i+1],3,padding=1),(nn.BatchNorm2d(c[i+1]) if BN else nn.GroupNorm(8,c[i+1])),nn.ReLU(),nn.Conv2d(c[i+1],c[i+1],3,padding=1),(nn.BatchNorm2d(c[i+1]) if BN else nn.GroupNorm(8,c[i+1])),nn.ReLU(),nn.MaxPool2d(2)) for i in range(4)])
        s.fc=nn.Linear(128,5)
    def forward(s,x):
        for b in s.b: x=b(x)
        return s.fc(x.mean((2,3)))
net=Net(); opt=torch.optim.AdamW(net.parameters(),2e-3,weight_decay=1e-4)
E=int(sys.argv[1]) if len(sys.argv)>1 and sys.argv[1].isdigit() else 10
sched=torch.optim.lr_scheduler.OneCycleLR(opt,3e-3,total_steps=E*(len(tr)//64+1))
def evaluate():
    net.eval(); out=[]
    with torch.no_grad():
        for name,idx in (('ace',te),('bccd',np.where(dom=='bccd')[0]),('zheng',np.where(dom=='zheng-ds2')[0])):
            p=torch.cat([net(norm(X[idx[i:i+256]])) for i in range(0,len(idx),256)]).argmax(1)
            out.append(f"{name} {(p==y[idx]).float().mean()*100:.1f}")
    net.train(); return ' '.join(out)
for ep in range(E):
    t=time.time(); perm=np.random.permutation(tr)
    for i in range(0,len(perm),64):
        idx=perm[i:i+64]; xb=norm(aug(X[idx])); loss=F.cross_entropy(net(xb),y[idx],label_smoothing=0.1)
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    print(ep, f"{time.time()-t:.0f}s loss {loss.item():.3f}", evaluate(), flush=True)
if BN:
    # AdaBN: recompute BatchNorm statistics on each target lab's unlabelled cells, then score it.
    base=copy.deepcopy(net.state_dict())
    def adabn(idx):
        net.load_state_dict(base)
        for m in net.modules():
            if isinstance(m,nn.BatchNorm2d): m.reset_running_stats(); m.momentum=None
        net.train()
        with torch.no_grad():
            for i in range(0,len(idx),64): net(norm(X[idx[i:i+64]]))
        net.eval()
        with torch.no_grad(): p=torch.cat([net(norm(X[idx[i:i+256]])) for i in range(0,len(idx),256)]).argmax(1)
        return (p==y[idx]).float().mean().item()*100
    for name,d in (('bccd','bccd'),('zheng','zheng-ds2')):
        print('AdaBN',name,'%.1f'%adabn(np.where(dom==d)[0]))

