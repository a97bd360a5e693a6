"""Mask R-CNN for white blood cells: ResNet-18 (GroupNorm) + FPN(256), trained from scratch.

`build_model()` returns a torchvision MaskRCNN with one foreground class (num_classes=2).
`DetectorExport` wraps it for inference/ONNX: it bypasses torchvision's GeneralizedRCNNTransform
(no resizing inside the model), takes one float32 RGB image [3,H,W] with values in 0..255 whose longer
side is INPUT_SIZE, and returns boxes, scores, 28x28 mask probabilities and the 256x14x14 ROIAlign
features over P2-P5 that the mask head receives (model.roi_heads.mask_roi_pool on the final boxes).
"""
import torch
import torch.nn.functional as F
from torch import nn
import torchvision
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import TwoMLPHead, FastRCNNPredictor
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import misc as misc_nn_ops  # noqa: F401

INPUT_SIZE = 256          # longer image side fed to the network (pixels)
SCORE_THRESH = 0.5
# Drop a lower-scoring box that is larger than a kept box and holds >= this share of it: the model's NMS
# (IoU 0.5) lets a larger duplicate around a cell through. A smaller box inside a larger kept one stays (a
# real neighbour, on TXL-PBC). src/engine/detector/containment.ts does the same in the engine;
# models/detector.json "containment_suppression".
CONTAINMENT = 0.9
MAX_DETS = 100
MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
STD = [0.229 * 255, 0.224 * 255, 0.225 * 255]
VERSION = "wbc-maskrcnn-r18gn-fpn256-v1"


def _gn(c):
    return nn.GroupNorm(32 if c >= 32 else 8, c)


class _Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.n1 = _gn(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.n2 = _gn(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), _gn(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = F.relu(self.n1(self.c1(x)))
        y = self.n2(self.c2(y))
        return F.relu(y + idt)


class HalfResNet18(nn.Module):
    """ResNet-18 layout (2 basic blocks per stage) at half width: 32-64-128-256, GroupNorm."""
    widths = (32, 64, 128, 256)

    def __init__(self):
        super().__init__()
        w = self.widths
        self.stem = nn.Sequential(nn.Conv2d(3, w[0], 7, 2, 3, bias=False), _gn(w[0]), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        cin = w[0]
        for i, c in enumerate(w):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(_Block(cin, c, stride), _Block(c, c, 1)))
            cin = c


class BoxHead(nn.Module):
    """1x1 conv 256->64 on the 7x7 ROI, then two FC layers of 256 (keeps the file small)."""

    def __init__(self, rep=256):
        super().__init__()
        self.red = nn.Conv2d(256, 64, 1)
        self.fc6 = nn.Linear(64 * 7 * 7, rep)
        self.fc7 = nn.Linear(rep, rep)

    def forward(self, x):
        x = F.relu(self.red(x)).flatten(1)
        return F.relu(self.fc7(F.relu(self.fc6(x))))


def build_model(input_size=INPUT_SIZE, train_min_sizes=None):
    body = HalfResNet18()
    backbone = BackboneWithFPN(
        body,
        return_layers={"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
        in_channels_list=list(HalfResNet18.widths),
        out_channels=256,
        extra_blocks=torchvision.ops.feature_pyramid_network.LastLevelMaxPool(),
    )
    # cells are large at this input size: anchors 16..256 on P2..P6
    anchor_gen = AnchorGenerator(sizes=((16,), (32,), (64,), (128,), (256,)),
                                 aspect_ratios=((0.5, 1.0, 2.0),) * 5)
    rep = 256
    box_head = BoxHead(rep)
    box_pred = FastRCNNPredictor(rep, 2)
    mask_head = MaskRCNNHeads(256, (128, 128, 128, 128), 1)
    mask_pred = MaskRCNNPredictor(128, 128, 2)
    model = MaskRCNN(
        backbone,
        num_classes=None,
        min_size=train_min_sizes or input_size,
        max_size=input_size,
        image_mean=[m / 255 for m in MEAN],
        image_std=[s / 255 for s in STD],
        rpn_anchor_generator=anchor_gen,
        rpn_pre_nms_top_n_train=600, rpn_post_nms_top_n_train=300,
        rpn_pre_nms_top_n_test=300, rpn_post_nms_top_n_test=100,
        rpn_batch_size_per_image=128,
        box_head=box_head, box_predictor=box_pred,
        box_batch_size_per_image=128,
        box_score_thresh=SCORE_THRESH, box_detections_per_img=MAX_DETS,
        mask_head=mask_head, mask_predictor=mask_pred,
    )
    return model


class DetectorExport(nn.Module):
    """image [3,H,W] float32 RGB 0..255 (longer side INPUT_SIZE) ->
    boxes [N,4] (x1,y1,x2,y2 in input pixels), scores [N], masks [N,1,28,28] (probabilities,
    to be pasted into the box), features [N,256,14,14] (mask_roi_pool over P2-P5)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(MEAN).view(3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(3, 1, 1))

    def forward(self, image):
        m = self.model
        h, w = image.shape[-2], image.shape[-1]
        x = (image - self.mean) / self.std
        # pad bottom/right to a multiple of 32 (what GeneralizedRCNNTransform.batch_images does)
        ph = (32 - h % 32) % 32
        pw = (32 - w % 32) % 32
        x = F.pad(x, (0, pw, 0, ph)).unsqueeze(0)
        sizes = [(int(h), int(w))] if not torch.jit.is_tracing() else [(h, w)]
        images = ImageList(x, sizes)
        feats = m.backbone(x)
        proposals, _ = m.rpn(images, feats)
        dets, _ = m.roi_heads(feats, proposals, images.image_sizes)
        d = dets[0]
        boxes, scores, masks = d["boxes"], d["scores"], d["masks"]
        roi = m.roi_heads.mask_roi_pool(feats, [boxes], images.image_sizes)
        return boxes, scores, masks, roi


def paste_masks(masks, boxes, h, w, thresh=0.5):
    """masks [N,1,28,28] probabilities -> bool [N,h,w] (torchvision's paste)."""
    from torchvision.models.detection.roi_heads import paste_masks_in_image
    if masks.shape[0] == 0:
        return torch.zeros((0, h, w), dtype=torch.bool)
    return paste_masks_in_image(masks, boxes, (h, w), padding=1)[:, 0] > thresh


def suppress_contained(boxes, scores, thresh=CONTAINMENT):
    """Indices (ascending) of boxes [N,4] kept after containment suppression (see CONTAINMENT)."""
    n = int(boxes.shape[0])
    if n < 2 or not thresh:
        return list(range(n))
    b = boxes.tolist()
    order = sorted(range(n), key=lambda i: (-float(scores[i]), i))
    area = [max(0.0, x2 - x1) * max(0.0, y2 - y1) for x1, y1, x2, y2 in b]
    kept = []
    for i in order:
        covered = False
        for k in kept:
            if area[i] <= area[k]:
                continue
            iw = min(b[i][2], b[k][2]) - max(b[i][0], b[k][0])
            ih = min(b[i][3], b[k][3]) - max(b[i][1], b[k][1])
            if iw > 0 and ih > 0 and iw * ih / area[k] >= thresh:
                covered = True
                break
        if not covered:
            kept.append(i)
    return sorted(kept)
