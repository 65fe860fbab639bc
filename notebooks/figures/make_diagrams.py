"""Draw each lab's architecture / data-flow diagram as an SVG next to this script.

    python notebooks/figures/make_diagrams.py                 # writes notebooks/figures/NN_*.svg
    python notebooks/figures/make_diagrams.py --out DIR       # writes them into DIR instead
    python notebooks/figures/make_diagrams.py --preview DIR   # also PNG previews in DIR

The notebooks show these files near their top (with alt text), so a student sees the model before any code
runs. Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies), and every
box also says in words what it is, so no meaning rests on colour alone. The SVGs are deterministic (fixed hash
salt, no date), so re-running the script changes no file unless a diagram changed.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = Path(__file__).resolve().parent

# Okabe & Ito (2008), "Color universal design": one role per colour
DATA = "#E69F00"      # orange: data (images, labels, noise)
ENCODER = "#56B4E9"   # sky blue: encoders, recognition networks
CODE = "#009E73"      # bluish green: codes, latent variables, hidden units
DECODER = "#0072B2"   # blue: decoders, generators
LOSS = "#D55E00"      # vermillion: losses and scores
OTHER = "#CC79A7"     # reddish purple: classifiers, discriminators, baselines
GREY = "#999999"
OUT = HERE       # where the SVGs go (--out DIR)
PREVIEW = None   # a folder for PNG previews (--preview DIR)


class Diagram:
    """A canvas in arbitrary units (x to the right, y up) with boxes, arrows and notes."""

    def __init__(self, width, height, title):
        self.fig, self.ax = plt.subplots(figsize=(width, height))
        self.ax.set_xlim(0, 100)
        self.ax.set_ylim(0, height * 10)
        self.ax.axis("off")
        self.ax.set_title(title, fontsize=12, fontweight="bold", loc="left")

    def box(self, x, y, text, color, w=14, h=8, fontsize=9, dashed=False):
        """A rounded box centred at (x, y); returns its centre and half sizes for arrows."""
        patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.4,rounding_size=1.5",
                               facecolor=color + "33", edgecolor=color, linewidth=1.8,
                               linestyle="--" if dashed else "-")
        self.ax.add_patch(patch)
        self.ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, wrap=True)
        return (x, y, w / 2, h / 2)

    def arrow(self, a, b, label="", both=False, color="black", offset=2.2, style="-|>", dashed=False,
              fontsize=8):
        """An arrow from box a's edge to box b's edge (horizontal or vertical neighbours)."""
        (ax_, ay, aw, ah), (bx, by, bw, bh) = a, b
        if abs(bx - ax_) >= abs(by - ay):  # mostly horizontal
            sx = 1 if bx > ax_ else -1
            start, end = (ax_ + sx * (aw + 0.6), ay), (bx - sx * (bw + 0.6), by)
        else:
            sy = 1 if by > ay else -1
            start, end = (ax_, ay + sy * (ah + 0.6)), (bx, by - sy * (bh + 0.6))
        arrow = FancyArrowPatch(start, end, arrowstyle=("<|-|>" if both else style), mutation_scale=12,
                                color=color, linewidth=1.4, linestyle="--" if dashed else "-")
        self.ax.add_patch(arrow)
        if label:
            mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
            self.ax.text(mx, my + offset, label, ha="center", va="bottom", fontsize=fontsize)

    def note(self, x, y, text, fontsize=8.5, color="black", ha="center", style="normal"):
        self.ax.text(x, y, text, ha=ha, va="center", fontsize=fontsize, color=color, style=style)

    def save(self, name):
        path = Path(OUT) / f"{name}.svg"
        self.fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
        if PREVIEW:
            self.fig.savefig(Path(PREVIEW) / f"{name}.png", dpi=90, bbox_inches="tight")
        plt.close(self.fig)
        return path


def lab01():
    d = Diagram(9, 3.0, "Lab 01: a dense autoencoder 784-32-784")
    x = d.box(7, 14, "image x\n28×28 → 784\nin [0, 1]", DATA, w=12)
    enc = d.box(27, 14, "encoder\nDense(32, ReLU)", ENCODER, w=16)
    z = d.box(45, 14, "code\n32 numbers", CODE, w=11)
    dec = d.box(66, 14, "decoder\nDense(784, sigmoid)", DECODER, w=20)
    xh = d.box(90, 14, "reconstruction\nx̂ (784)", DATA, w=15)
    d.arrow(x, enc); d.arrow(enc, z); d.arrow(z, dec); d.arrow(dec, xh)
    d.note(48, 4, "loss: binary cross-entropy between x and x̂, per pixel (Adam)", color=LOSS)
    return d.save("01_dense_autoencoder")


def lab02():
    d = Diagram(9, 3.6, "Lab 02: autoencoder outputs as inputs of a CNN classifier")
    x = d.box(6, 24, "image x", DATA, w=10)
    ae = d.box(24, 24, "lab 01's\nautoencoder", ENCODER, w=14)
    xh = d.box(45, 24, "reconstruction x̂", DATA, w=17)
    cnn = d.box(67, 24, "CNN\n3 conv blocks", OTHER, w=14)
    y = d.box(88, 24, "class\n(10)", CODE, w=9)
    d.arrow(x, ae); d.arrow(ae, xh); d.arrow(xh, cnn); d.arrow(cnn, y)
    codes = d.box(45, 8, "code 32 → 8×4×1 'image'", CODE, w=24)
    cnn2 = d.box(74, 8, "small CNN → class", OTHER, w=17)
    d.arrow(ae, codes, label="encoder only", offset=0.5)
    d.arrow(codes, cnn2)
    d.note(8, 10, "baseline: the same\nCNN on the raw\nimages x", fontsize=8, style="italic")
    return d.save("02_autoencoder_cnn")


def lab03():
    d = Diagram(9, 3.6, "Lab 03: undercomplete autoencoders and PCA")
    x = d.box(6, 20, "image x\n(784)", DATA, w=10)
    lin = d.box(33, 28, "linear AE: W₁ (784→k), W₂ (k→784)\nno activations, MSE", ENCODER, w=34, h=7)
    pca = d.box(33, 12, "PCA: project on the top k\nprincipal components", OTHER, w=34, h=7)
    non = d.box(82, 28, "nonlinear AE: ReLU layers,\nsame k: lower error than PCA", DECODER, w=30, h=7)
    over = d.box(82, 12, "overcomplete: 1024 > 784\nunits can copy x, noise too", GREY, w=30, h=7)
    d.arrow(x, lin); d.arrow(x, pca)
    d.arrow(lin, pca, both=True)
    d.note(35, 20, "same subspace (Baldi & Hornik)", fontsize=8, ha="left")
    d.arrow(lin, non, label="nonlinearity", offset=1.0)
    d.arrow(pca, over, label="no bottleneck", offset=1.0)
    return d.save("03_undercomplete_pca")


def lab04():
    d = Diagram(9, 3.4, "Lab 04: regularized autoencoders: sparse and contractive")
    x = d.box(8, 20, "image x", DATA, w=11)
    enc = d.box(28, 20, "encoder f", ENCODER, w=12)
    h = d.box(48, 20, "code h = f(x)", CODE, w=14)
    dec = d.box(68, 20, "decoder g", DECODER, w=12)
    xh = d.box(87, 20, "x̂ = g(h)", DATA, w=11)
    d.arrow(x, enc); d.arrow(enc, h); d.arrow(h, dec); d.arrow(dec, xh)
    d.note(48, 9, "loss = reconstruction(x, x̂) + λ·Ω", color=LOSS, fontsize=9.5)
    d.note(48, 4, "sparse: Ω = Σ|hⱼ| (L1) or Σ KL(ρ‖ρ̂ⱼ)     contractive: Ω = ‖∂h/∂x‖²_F (the encoder's Jacobian)",
           fontsize=8.5)
    return d.save("04_sparse_contractive")


def lab05():
    d = Diagram(9, 3.0, "Lab 05: a denoising autoencoder")
    x = d.box(8, 16, "clean image x", DATA, w=14)
    noisy = d.box(36, 16, "corrupted x̃\n(Gaussian noise\nor masking)", DATA, w=17, h=10, dashed=True)
    ae = d.box(63, 16, "conv encoder (32, 64)\n+ mirrored decoder", ENCODER, w=21)
    xh = d.box(89, 16, "denoised x̂", DATA, w=13)
    d.arrow(x, noisy); d.arrow(noisy, ae); d.arrow(ae, xh)
    d.note(22, 26, "corruption C(x̃ | x),\nfresh in every batch", fontsize=8)
    d.note(48, 4, "loss compares x̂ with the CLEAN x, not with x̃; scored by PSNR and SSIM", color=LOSS)
    return d.save("05_denoising_autoencoder")


def lab06():
    d = Diagram(9, 4.0, "Lab 06: deep, stacked, tied and convolutional autoencoders")
    sizes = ["784", "128", "64", "32", "64", "128", "784"]
    colors = [DATA, ENCODER, ENCODER, CODE, DECODER, DECODER, DATA]
    boxes = [d.box(8 + i * 14, 30, s, c, w=9, h=6) for i, (s, c) in enumerate(zip(sizes, colors))]
    for a, b in zip(boxes, boxes[1:]):
        d.arrow(a, b)
    d.note(50, 22, "end to end: all layers trained at once     tied: decoder weights = encoder weights "
           "transposed (Wᵀ)", fontsize=8.5)
    d.note(50, 16, "greedy: train 784-128-784, then 128-64-128 on its codes, then 64-32-64; stack; fine-tune",
           fontsize=8.5)
    conv_in = d.box(8, 6, "28×28×1", DATA, w=10, h=5)
    conv_e = d.box(29, 6, "Conv 16, 32 (stride 2)", ENCODER, w=20, h=5)
    conv_z = d.box(51, 6, "Dense code 32", CODE, w=14, h=5)
    conv_d = d.box(77, 6, "Dense + Conv2DTranspose", DECODER, w=24, h=5)
    d.arrow(conv_in, conv_e); d.arrow(conv_e, conv_z); d.arrow(conv_z, conv_d)
    return d.save("06_deep_stacked_conv")


def lab07():
    d = Diagram(9, 3.8, "Lab 07: a variational autoencoder")
    x = d.box(8, 24, "image x", DATA, w=11)
    enc = d.box(27, 24, "encoder\nq(z | x)", ENCODER, w=13)
    mu = d.box(46, 30, "μ(x)", CODE, w=9, h=6)
    lv = d.box(46, 18, "log σ²(x)", CODE, w=11, h=6)
    z = d.box(66, 24, "z = μ + σ ⊙ ε", CODE, w=15)
    dec = d.box(87, 24, "decoder\np(x | z)", DECODER, w=13)
    eps = d.box(66, 9, "ε ~ N(0, I)", DATA, w=13, h=6, dashed=True)
    d.arrow(x, enc); d.arrow(enc, mu); d.arrow(enc, lv); d.arrow(mu, z); d.arrow(lv, z); d.arrow(z, dec)
    d.arrow(eps, z, label="reparameterization", offset=0.3)
    d.note(30, 6, "loss = −ELBO = reconstruction (BCE, nats)\n+ KL(q(z|x) ‖ N(0, I))", color=LOSS, fontsize=9)
    return d.save("07_variational_autoencoder")


def lab08():
    d = Diagram(9, 3.8, "Lab 08: a GAN (DCGAN) and a conditional GAN")
    z = d.box(8, 28, "noise z\n~ N(0, I)", DATA, w=11)
    g = d.box(30, 28, "generator G\n(Conv2DTranspose)", DECODER, w=18)
    fake = d.box(52, 28, "fake images G(z)", DATA, w=15)
    real = d.box(52, 12, "real images x", DATA, w=15)
    disc = d.box(76, 20, "discriminator D\n(conv, no batch norm)", OTHER, w=20, h=9)
    out = d.box(94, 20, "real or\nfake?", LOSS, w=8)
    d.arrow(z, g); d.arrow(g, fake); d.arrow(fake, disc); d.arrow(real, disc); d.arrow(disc, out)
    d.note(30, 12, "conditional GAN: the class label y\nis an input of both G and D", fontsize=8.5, style="italic")
    d.note(50, 3, "D learns to tell real from fake; G learns to fool D (two optimizers, one train_step)",
           color=LOSS)
    return d.save("08_gans")


def lab09():
    d = Diagram(9, 3.6, "Lab 09: a restricted Boltzmann machine and a deep belief net")
    vis = [d.box(10 + i * 9, 8, "v", DATA, w=5, h=5) for i in range(5)]
    hid = [d.box(14 + i * 9, 26, "h", CODE, w=5, h=5) for i in range(4)]
    for v in vis:
        for h in hid:
            d.ax.plot([v[0], h[0]], [v[1] + 3, h[1] - 3], color=GREY, linewidth=0.8)
    d.note(30, 34, "hidden units h (500)", fontsize=8.5)
    d.note(30, 1.5, "visible units v (784 binary pixels)", fontsize=8.5)
    d.note(57, 17, "W: every v to every h,\nnone within a layer", fontsize=8.5, ha="left")
    d.note(57, 28, "E(v, h) = −bᵀv − cᵀh − vᵀWh", fontsize=9.5, ha="left", color=LOSS)
    d.note(57, 9, "training: contrastive divergence (PCD-1):\ndata statistics − model statistics "
           "(Gibbs sampling)\nlikelihood in nats: AIS estimates log Z", fontsize=8.5, ha="left")
    d.note(57, 1.5, "deep belief net: a second RBM (500-500) on p(h | v),\nthen an MLP 784-500-500-10 "
           "fine-tuned from the stack", fontsize=8.5, ha="left", color=DECODER)
    return d.save("09_boltzmann_machines")


def lab10():
    d = Diagram(9, 4.2, "Lab 10: adversarial and Wasserstein autoencoders")
    x = d.box(8, 30, "image x", DATA, w=11)
    enc = d.box(28, 30, "encoder f\n(deterministic)", ENCODER, w=15)
    z = d.box(49, 30, "code z = f(x)", CODE, w=14)
    dec = d.box(70, 30, "decoder g\np(x | z)", DECODER, w=13)
    rec = d.box(91, 30, "reconstruction\n(BCE, nats)", LOSS, w=14)
    prior = d.box(14, 11, "prior draws\nz̃ ~ N(0, I)", DATA, w=15, dashed=True)
    match = d.box(55, 11, "AAE: discriminator D(z): prior or code?\nWAE: MMD(codes, prior draws)", OTHER, w=36,
                  h=9)
    d.arrow(x, enc); d.arrow(enc, z); d.arrow(z, dec); d.arrow(dec, rec)
    d.arrow(prior, match)
    d.ax.add_patch(FancyArrowPatch((49, 25.4), (49, 16.1), arrowstyle="-|>", mutation_scale=12, color="black",
                                   linewidth=1.4))
    d.note(50, 39, "a batch's codes together (the aggregate posterior q(z)) are pushed onto the prior, "
           "not each image's", color=LOSS, fontsize=8.5)
    d.note(50, 3, "to generate: draw z̃ from the prior and decode it with g", fontsize=8.5, style="italic")
    return d.save("10_adversarial_autoencoders")


def lab11():
    d = Diagram(9, 4.4, "Lab 11: a sequence autoencoder, and anomaly scores")
    x = d.box(8, 32, "image x\n28 rows\nof 28 pixels", DATA, w=12, h=10)
    enc = d.box(27, 32, "GRU encoder\nreads rows\nx₁ … x₂₈", ENCODER, w=13, h=10)
    z = d.box(45, 32, "code c\n(32 numbers)", CODE, w=13, h=10)
    dec = d.box(65, 32, "RepeatVector(28)\n→ GRU → Dense(28)\nper row", DECODER, w=20, h=10, fontsize=8.5)
    rec = d.box(90, 32, "reconstruction\nx̂ (28 rows)", DATA, w=14, h=10)
    d.arrow(x, enc); d.arrow(enc, z); d.arrow(z, dec); d.arrow(dec, rec)
    score = d.box(80, 12, "score s(x): reconstruction\nerror (nats per image),\nor a VAE's −ELBO", LOSS, w=26, h=10)
    d.ax.add_patch(FancyArrowPatch((90, 26.4), (90, 17.6), arrowstyle="-|>", mutation_scale=12, color="black",
                                   linewidth=1.4))
    split = d.box(15, 12, "train on 9 classes;\nscore the held-out class\nand the other data set", OTHER, w=24,
                  h=9, dashed=True)
    d.note(47, 12, "measured by ROC AUC and precision\nat 90% recall, against PCA-32\nand the mean image", fontsize=8.5)
    d.note(50, 42, "variational version (VRAE): the encoder gives μ(x), log σ²(x); trained on the ELBO",
           color=DECODER, fontsize=8.5)
    return d.save("11_sequence_autoencoders")


def lab12():
    d = Diagram(9, 4.2, "Lab 12: a deep Boltzmann machine with two hidden layers")
    vis = [d.box(8 + i * 9, 6, "v", DATA, w=5, h=5) for i in range(5)]
    h1 = [d.box(12 + i * 9, 20, "h¹", CODE, w=5, h=5) for i in range(4)]
    h2 = [d.box(16 + i * 9, 34, "h²", CODE, w=5, h=5) for i in range(3)]
    for lower, upper in ((vis, h1), (h1, h2)):
        for a in lower:
            for b in upper:
                d.ax.plot([a[0], b[0]], [a[1] + 3, b[1] - 3], color=GREY, linewidth=0.8)
    d.note(58, 37, "E(v, h¹, h²) = −vᵀW¹h¹ − h¹ᵀW²h² − bᵀv − c¹ᵀh¹ − c²ᵀh²", fontsize=9.5, ha="left",
           color=LOSS)
    d.note(58, 27, "undirected: h¹ hears v and h² at once\np(h¹ | v, h²) = σ(vW¹ + h²W²ᵀ + c¹)", fontsize=8.5,
           ha="left")
    d.note(58, 16, "pretraining: two \"doubled\" RBMs;\njoint training: mean-field q(h | v) for the data\n"
           "statistics, persistent Gibbs chains for the model's", fontsize=8.5, ha="left", color=DECODER)
    d.note(58, 4, "likelihood: AIS for log Z and the mean-field\nlower bound on log p(v), in nats",
           fontsize=8.5, ha="left")
    d.note(2, 1, "visible units v (784 binary pixels)", fontsize=8.5, ha="left")
    return d.save("12_deep_boltzmann_machine")


DIAGRAMS = [lab01, lab02, lab03, lab04, lab05, lab06, lab07, lab08, lab09, lab10, lab11, lab12]


def main():
    import sys

    global OUT, PREVIEW
    args = sys.argv[1:]
    for flag in ("--out", "--preview"):
        if flag in args and args.index(flag) + 1 >= len(args):
            sys.exit(f"{flag} needs a folder")
    if "--out" in args:
        OUT = args[args.index("--out") + 1]
    if "--preview" in args:
        PREVIEW = args[args.index("--preview") + 1]
    plt.rcParams["svg.hashsalt"] = "genlabs"
    plt.rcParams["font.family"] = "DejaVu Sans"
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: small files, searchable, read by screen readers
    for make in DIAGRAMS:
        print(make())


if __name__ == "__main__":
    main()
