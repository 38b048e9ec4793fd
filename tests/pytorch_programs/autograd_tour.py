# The autograd tutorials (pytorch.org "A Gentle Introduction to torch.autograd" and
# "Automatic Differentiation with torch.autograd"), with fixed values where they draw
# random ones.
import torch

# a one-layer network and its gradients
x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9],
                  [1.0, -1.1, 1.2], [0.05, 0.15, -0.25]], requires_grad=True)
b = torch.tensor([0.3, -0.1, 0.2], requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print(f"Gradient function for z = {z.grad_fn}")
loss.backward()
print(w.grad)
print(b.grad)

# disabling gradient tracking
z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z_det = (torch.matmul(x, w) + b).detach()
print(z_det.requires_grad)

# Jacobian-vector products, gradients accumulate, zeroing them
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")

# differentiation in autograd: Q = 3a^3 - b^2, external gradient
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9 * a ** 2 == a.grad)
print(-2 * b == b.grad)

# torch.autograd.grad, higher order
t = torch.tensor([0.5, -1.5, 2.0], requires_grad=True)
f = (t.sin() * t.exp()).sum()
(g,) = torch.autograd.grad(f, t, create_graph=True)
(h,) = torch.autograd.grad(g.sum(), t)
print(g.detach().tolist())
print(h.tolist())

# frozen parameters: only the new classifier trains
model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
for param in model.parameters():
    param.requires_grad = False
model[2] = torch.nn.Linear(3, 2)
trainable = [name for name, p in model.named_parameters() if p.requires_grad]
print(trainable)
print(sum(p.numel() for p in model.parameters()), sum(p.numel() for p in model.parameters() if p.requires_grad))
